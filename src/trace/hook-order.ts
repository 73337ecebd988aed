/**
 * The hooks a packet passes in kernel order, from a pod (PREROUTING, then INPUT or FORWARD and
 * POSTROUTING) or from the node itself (OUTPUT, POSTROUTING, and back in over loopback), each hook's
 * tables in priority order, the routing decisions between them and the built-in chains' policies.
 */
import type { TableName } from "../model/ruleset.ts";
import { formatIpv4 } from "../net/ipv4.ts";
import { type ChainInfo, candidateRules } from "./trace-index.ts";
import { walkFrom } from "./walk-chain.ts";
import { ACCEPT, DROP, isLocalDst, type Outcome, type Walk } from "./walk-context.ts";
import type { Hook, WalkState } from "./walk-state.ts";

function routeOut(walk: Walk, st: WalkState): string | undefined {
  const r = walk.options.routeInterface?.(formatIpv4(st.dst));
  return r ?? walk.request.outInterface;
}

/** Runs one hook's tables over the live paths; decided paths go to `done`. */
function hook(
  walk: Walk,
  name: Hook,
  tables: readonly TableName[],
  live: Outcome[],
  done: Outcome[],
): Outcome[] {
  let current = live;
  for (const table of tables) {
    const info = walk.index.builtins.get(table)?.get(name);
    if (info === undefined) continue;
    const next: Outcome[] = [];
    for (const l of current) {
      l.st.hook = name;
      if (table === "nat" && l.st.untracked) {
        next.push(l);
        continue;
      }
      const results: Outcome[] = [];
      walkFrom(walk, info, candidateRules(info, l.st.dst, l.st.dport), 0, l.st, l.p, l.trail, 0, results);
      for (const o of results) {
        if (o.v.k === "return") applyPolicy(info, o);
        if (o.v.k === "accept") next.push(o);
        else done.push(o);
      }
    }
    current = next;
  }
  return current;
}

function newPath(st: WalkState): Outcome {
  return { p: 1, st, trail: undefined, v: ACCEPT };
}

export function fromPod(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = walk.request.inInterface;
  st0.outIf = "";
  const live = hook(walk, "PREROUTING", PRE_TABLES, [newPath(st0)], done);
  const local: Outcome[] = [];
  const fwd: Outcome[] = [];
  for (const l of live) (isLocalDst(walk, l.st) ? local : fwd).push(l);
  const finished = hook(walk, "INPUT", INPUT_TABLES, local, done);
  for (const l of fwd) l.st.outIf = routeOut(walk, l.st);
  const forwarded = hook(
    walk,
    "POSTROUTING",
    POST_TABLES,
    hook(walk, "FORWARD", FORWARD_TABLES, fwd, done),
    done,
  );
  for (const l of forwarded) finished.push(l);
  for (const l of finished) done.push(l);
  return done;
}

const PRE_TABLES: readonly TableName[] = ["raw", "mangle", "nat"];
const INPUT_TABLES: readonly TableName[] = ["mangle", "filter", "security", "nat"];
const FORWARD_TABLES: readonly TableName[] = ["mangle", "filter", "security"];
const POST_TABLES: readonly TableName[] = ["mangle", "nat"];

export function fromHost(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = "";
  st0.outIf = isLocalDst(walk, st0) ? "lo" : routeOut(walk, st0);
  // Every table of the OUTPUT hook sees the out-interface of the first route lookup: the kernel
  // re-routes after a nat OUTPUT DNAT, but the hook's `-o` device is fixed when the hook is entered
  // (kernel-verified). POSTROUTING sees the new route.
  let live = hook(walk, "OUTPUT", ["raw", "mangle", "nat", "filter", "security"], [newPath(st0)], done);
  for (const l of live) l.st.outIf = isLocalDst(walk, l.st) ? "lo" : routeOut(walk, l.st);
  live = hook(walk, "POSTROUTING", POST_TABLES, live, done);
  const finished: Outcome[] = [];
  const local: Outcome[] = [];
  for (const l of live) (isLocalDst(walk, l.st) ? local : finished).push(l);
  // Over loopback the packet comes back in; its connection is already NATed, so nat is skipped.
  for (const l of local) {
    l.st.inIf = "lo";
    l.st.outIf = "";
  }
  const back = hook(
    walk,
    "INPUT",
    ["mangle", "filter", "security"],
    hook(walk, "PREROUTING", ["raw", "mangle"], local, done),
    done,
  );
  for (const l of back) finished.push(l);
  for (const l of finished) done.push(l);
  return done;
}

function applyPolicy(info: ChainInfo, o: Outcome): void {
  const policy = info.chain.policy ?? "ACCEPT";
  if (policy === "DROP" || info.chain.rules.length > 0) {
    let step = info.policyStep;
    if (step === undefined) {
      const c = info.chain;
      step = {
        table: info.table,
        chain: c.name,
        line: c.line,
        rule: `:${c.name} ${policy} [${c.counters.packets}:${c.counters.bytes}]`,
        action: `policy ${policy}`,
      };
      info.policyStep = step;
    }
    o.trail = { s: step, prev: o.trail };
    if (policy === "DROP") {
      o.v = DROP;
      o.by = step;
      return;
    }
  }
  o.v = ACCEPT;
}
