/**
 * The hooks a packet passes in kernel order, from a pod (PREROUTING, then INPUT or FORWARD and
 * POSTROUTING) or from the node itself (OUTPUT, POSTROUTING, and back in over loopback), each hook's
 * tables in priority order, the routing decisions between them and the built-in chains' policies.
 * With the node's IPVS table, IPVS sits where the kernel has it (ipvs-stage.ts): in INPUT after the
 * filter table, in OUTPUT after nat.
 */
import type { TableName } from "../model/ruleset.ts";
import { ipvsPaths } from "./ipvs-stage.ts";
import { routeOut, routePaths } from "./route-step.ts";
import type { ChainInfo } from "./trace-index.ts";
import { policyStep } from "./trace-steps.ts";
import { walkChain } from "./walk-chain.ts";
import { ACCEPT, DROP, type Outcome, outcome, RETURN, type Walk } from "./walk-context.ts";
import type { Hook, WalkState } from "./walk-state.ts";

/** A hook and the tables a packet meets there, in priority order; `id` indexes the per-index cache. */
interface Stage {
  readonly id: number;
  readonly hook: Hook;
  readonly tables: readonly TableName[];
}

/** Every stage a packet may pass. Over loopback the connection is already NATed: nat is skipped. */
const STAGES = {
  pre: { id: 0, hook: "PREROUTING", tables: ["raw", "mangle", "nat"] },
  input: { id: 1, hook: "INPUT", tables: ["mangle", "filter", "security", "nat"] },
  forward: { id: 2, hook: "FORWARD", tables: ["mangle", "filter", "security"] },
  post: { id: 3, hook: "POSTROUTING", tables: ["mangle", "nat"] },
  output: { id: 4, hook: "OUTPUT", tables: ["raw", "mangle", "nat", "filter", "security"] },
  loopbackPre: { id: 5, hook: "PREROUTING", tables: ["raw", "mangle"] },
  loopbackInput: { id: 6, hook: "INPUT", tables: ["mangle", "filter", "security"] },
  // IPVS splits INPUT after the filter table and OUTPUT after nat; after it schedules, the packet
  // is sent by the node: OUTPUT again, without nat (the connection's NAT is set).
  inputNat: { id: 7, hook: "INPUT", tables: ["nat"] },
  outputNat: { id: 8, hook: "OUTPUT", tables: ["raw", "mangle", "nat"] },
  outputFilter: { id: 9, hook: "OUTPUT", tables: ["filter", "security"] },
  ipvsOut: { id: 10, hook: "OUTPUT", tables: ["raw", "mangle", "filter", "security"] },
} as const satisfies Record<string, Stage>;

/**
 * The built-in chains a stage walks, in table order: those the dump has, except empty chains with an
 * ACCEPT policy (walking one changes nothing and records no step). Cached on the index.
 */
function stageChains(walk: Walk, stage: Stage): readonly ChainInfo[] {
  let infos = walk.index.stages[stage.id];
  if (infos === undefined) {
    const found: ChainInfo[] = [];
    for (const table of stage.tables) {
      const info = walk.index.builtins.get(table)?.get(stage.hook);
      if (info !== undefined && (info.length > 0 || info.chain.policy === "DROP")) found.push(info);
    }
    walk.index.stages[stage.id] = found;
    infos = found;
  }
  return infos;
}

/** Runs one hook's tables over the live paths; decided paths go to `done`. */
function hook(walk: Walk, stage: Stage, live: Outcome[], done: Outcome[]): Outcome[] {
  // A reply of a tracked connection is not NATed by rules: conntrack applies the request's NAT.
  const skipNat = walk.ctx.reply === true;
  // Set even when the dump has none of the hook's tables: the disposition reads where a path ended.
  for (const l of live) l.st.hook = stage.hook;
  let current = live;
  // One list for every walk of this hook (emptied after each): a walk appends the paths it ended.
  const results: Outcome[] = [];
  for (const info of stageChains(walk, stage)) {
    const nat = info.table === "nat";
    if (nat && skipNat) continue;
    const next: Outcome[] = [];
    for (const l of current) {
      if (nat && l.st.untracked) {
        next.push(l);
        continue;
      }
      // The path itself came back from the built-in chain: its policy applies.
      if (walkChain(walk, { info, head: l, out: results })) results.push(returned(l));
      for (const o of results) {
        if (o.v.k === "return") applyPolicy(walk, info, o);
        if (o.v.k === "accept") next.push(o);
        else done.push(o);
      }
      results.length = 0;
    }
    current = next;
  }
  return current;
}

function returned(o: Outcome): Outcome {
  o.v = RETURN;
  return o;
}

function newPath(st: WalkState): Outcome {
  return outcome(1, st, undefined, ACCEPT);
}

/**
 * INPUT with IPVS between its filter and nat tables: a packet for a virtual service is scheduled to
 * a real server and sent on (OUTPUT without nat, routing, POSTROUTING), or stays the node's when the
 * real server is the node itself; any other packet goes on to nat INPUT and the node's socket.
 */
function inputWithIpvs(walk: Walk, local: Outcome[], done: Outcome[]): Outcome[] {
  const { scheduled, passed } = ipvsPaths(walk, hook(walk, STAGES.loopbackInput, local, done), done);
  const delivered = hook(walk, STAGES.inputNat, passed, done);
  if (scheduled.length === 0) return delivered;
  const toServer = routePaths(walk, scheduled, done);
  for (const l of hook(walk, STAGES.inputNat, toServer.local, done)) delivered.push(l);
  for (const l of toServer.forward) {
    l.st.inIf = "";
    l.st.outIf = routeOut(walk, l.st);
  }
  for (const l of hook(walk, STAGES.post, hook(walk, STAGES.ipvsOut, toServer.forward, done), done))
    delivered.push(l);
  return delivered;
}

/** A packet from a pod: PREROUTING, routing, then INPUT, or FORWARD and POSTROUTING. */
export function fromPod(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = walk.request.inInterface;
  st0.outIf = "";
  const live = hook(walk, STAGES.pre, [newPath(st0)], done);
  const { local, forward } = routePaths(walk, live, done);
  const finished =
    walk.options.ipvs === undefined
      ? hook(walk, STAGES.input, local, done)
      : inputWithIpvs(walk, local, done);
  for (const l of forward) l.st.outIf = routeOut(walk, l.st);
  const forwarded = hook(walk, STAGES.post, hook(walk, STAGES.forward, forward, done), done);
  for (const l of forwarded) finished.push(l);
  for (const l of finished) done.push(l);
  return done;
}

/** A packet of the node itself: OUTPUT, routing, POSTROUTING, and back in over loopback when local. */
export function fromHost(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = "";
  st0.outIf = isLoopbackOrLocal(walk, st0) ? "lo" : routeOut(walk, st0);
  // Every table of the OUTPUT hook sees the out-interface of the first route lookup: the kernel
  // re-routes after a nat OUTPUT DNAT, but the hook's `-o` device is fixed when the hook is entered
  // (kernel-verified). POSTROUTING sees the new route.
  const live =
    walk.options.ipvs === undefined
      ? hook(walk, STAGES.output, [newPath(st0)], done)
      : outputWithIpvs(walk, newPath(st0), done);
  const { local, forward } = routePaths(walk, live, done);
  for (const l of local) l.st.outIf = "lo";
  for (const l of forward) l.st.outIf = routeOut(walk, l.st);
  const finished = hook(walk, STAGES.post, forward, done);
  const back = hook(walk, STAGES.post, local, done);
  // Over loopback the packet comes back in; its connection is already NATed, so nat is skipped.
  for (const l of back) {
    l.st.inIf = "lo";
    l.st.outIf = "";
  }
  const delivered = hook(walk, STAGES.loopbackInput, hook(walk, STAGES.loopbackPre, back, done), done);
  for (const l of delivered) finished.push(l);
  for (const l of finished) done.push(l);
  return done;
}

/**
 * OUTPUT with IPVS after its nat table (ip_vs_local_request4): a scheduled packet is sent again
 * through OUTPUT towards its real server (nat skipped), the others go on to filter and security.
 */
function outputWithIpvs(walk: Walk, start: Outcome, done: Outcome[]): Outcome[] {
  const { scheduled, passed } = ipvsPaths(walk, hook(walk, STAGES.outputNat, [start], done), done);
  const live = hook(walk, STAGES.outputFilter, passed, done);
  for (const l of scheduled) l.st.outIf = isLoopbackOrLocal(walk, l.st) ? "lo" : routeOut(walk, l.st);
  for (const l of hook(walk, STAGES.ipvsOut, scheduled, done)) live.push(l);
  return live;
}

function isLoopbackOrLocal(walk: Walk, st: WalkState): boolean {
  return (st.dst & 0xff000000) >>> 0 === 0x7f000000 || (walk.ctx.localIps?.includes(st.dst) ?? false);
}

/** The end of a built-in chain: its policy; a chain with rules records the policy as a step. */
function applyPolicy(walk: Walk, info: ChainInfo, o: Outcome): void {
  const policy = info.chain.policy ?? "ACCEPT";
  if (policy === "DROP" || info.length > 0) {
    const step = policyStep(walk.index, info);
    o.trail = { s: step, prev: o.trail };
    if (policy === "DROP") {
      o.v = DROP;
      o.by = step;
      return;
    }
  }
  o.v = ACCEPT;
}
