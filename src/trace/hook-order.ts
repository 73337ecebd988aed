/**
 * The hooks a packet passes in kernel order, from a pod (PREROUTING, then INPUT or FORWARD and
 * POSTROUTING) or from the node itself (OUTPUT, POSTROUTING, and back in over loopback), each hook's
 * tables in priority order, the routing decisions between them and the built-in chains' policies.
 */
import type { TableName } from "../model/ruleset.ts";
import { routeOut, routePaths } from "./route-step.ts";
import type { ChainInfo } from "./trace-index.ts";
import { policyStep } from "./trace-steps.ts";
import { walkChain } from "./walk-chain.ts";
import { ACCEPT, DROP, type Outcome, outcome, type Walk } from "./walk-context.ts";
import type { Hook, WalkState } from "./walk-state.ts";

const PRE_TABLES: readonly TableName[] = ["raw", "mangle", "nat"];
const INPUT_TABLES: readonly TableName[] = ["mangle", "filter", "security", "nat"];
const FORWARD_TABLES: readonly TableName[] = ["mangle", "filter", "security"];
const POST_TABLES: readonly TableName[] = ["mangle", "nat"];
const OUTPUT_TABLES: readonly TableName[] = ["raw", "mangle", "nat", "filter", "security"];

/** Runs one hook's tables over the live paths; decided paths go to `done`. */
function hook(
  walk: Walk,
  name: Hook,
  tables: readonly TableName[],
  live: Outcome[],
  done: Outcome[],
): Outcome[] {
  // Set even when the dump has none of the hook's tables: the disposition reads where a path ended.
  for (const l of live) l.st.hook = name;
  let current = live;
  for (const table of tables) {
    const info = walk.index.builtins.get(table)?.get(name);
    if (info === undefined) continue;
    const next: Outcome[] = [];
    for (const l of current) {
      if (table === "nat" && l.st.untracked) {
        next.push(l);
        continue;
      }
      const results: Outcome[] = [];
      walkChain(walk, { info, head: l, out: results });
      for (const o of results) {
        if (o.v.k === "return") applyPolicy(walk, info, o);
        if (o.v.k === "accept") next.push(o);
        else done.push(o);
      }
    }
    current = next;
  }
  return current;
}

function newPath(st: WalkState): Outcome {
  return outcome(1, st, undefined, ACCEPT);
}

/** A packet from a pod: PREROUTING, routing, then INPUT, or FORWARD and POSTROUTING. */
export function fromPod(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = walk.request.inInterface;
  st0.outIf = "";
  const live = hook(walk, "PREROUTING", PRE_TABLES, [newPath(st0)], done);
  const { local, forward } = routePaths(walk, live, done);
  const finished = hook(walk, "INPUT", INPUT_TABLES, local, done);
  for (const l of forward) l.st.outIf = routeOut(walk, l.st);
  const forwarded = hook(
    walk,
    "POSTROUTING",
    POST_TABLES,
    hook(walk, "FORWARD", FORWARD_TABLES, forward, done),
    done,
  );
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
  const live = hook(walk, "OUTPUT", OUTPUT_TABLES, [newPath(st0)], done);
  const { local, forward } = routePaths(walk, live, done);
  for (const l of local) l.st.outIf = "lo";
  for (const l of forward) l.st.outIf = routeOut(walk, l.st);
  const finished = hook(walk, "POSTROUTING", POST_TABLES, forward, done);
  const back = hook(walk, "POSTROUTING", POST_TABLES, local, done);
  // Over loopback the packet comes back in; its connection is already NATed, so nat is skipped.
  for (const l of back) {
    l.st.inIf = "lo";
    l.st.outIf = "";
  }
  const delivered = hook(
    walk,
    "INPUT",
    ["mangle", "filter", "security"],
    hook(walk, "PREROUTING", ["raw", "mangle"], back, done),
    done,
  );
  for (const l of delivered) finished.push(l);
  for (const l of finished) done.push(l);
  return done;
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
