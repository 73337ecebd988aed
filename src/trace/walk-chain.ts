/**
 * Walks one chain's rules for a path: evaluates each candidate rule, forks at random branches and
 * applies matched targets (rewrites, jumps and gotos into other chains, verdicts).
 */

import { endpointText, parseIpv4 } from "../net/ipv4.ts";
import type { CompiledRule } from "./compile-rule.ts";
import type { CompiledTarget } from "./compile-target.ts";
import { evalFast, evalSlow } from "./eval-rule.ts";
import { type ChainInfo, candidateRules, chainInfo, compiledRule } from "./trace-index.ts";
import { stepOf, unknownOutcome } from "./trace-steps.ts";
import { ACCEPT, DROP, next, type Outcome, RETURN, type Trail, type Walk } from "./walk-context.ts";
import { cloneState, type WalkState } from "./walk-state.ts";

const MAX_DEPTH = 64;
const LOCALHOST = parseIpv4("127.0.0.1")!;

/**
 * Walks a chain from candidate position `pos`, appending every finished path of this chain
 * (accept/drop/reject/unknown, or return) to `out`. A rule whose target lets the walk go on (a
 * non-terminating target, or a jump whose chain returned one path) continues this loop instead of
 * recursing: long chains of such rules neither grow the stack nor allocate result lists.
 */
export function walkFrom(
  walk: Walk,
  info: ChainInfo,
  cands: readonly number[] | null,
  pos: number,
  st0: WalkState,
  p0: number,
  trail0: Trail | undefined,
  depth: number,
  out: Outcome[],
): void {
  let st = st0;
  let p = p0;
  let trail = trail0;
  const n = cands === null ? info.length : cands.length;
  for (let k = pos; k < n; k++) {
    const c = compiledRule(walk.index, info, cands === null ? k : cands[k]!);
    const r = evalFast(c, st, walk.ctx);
    if (r === false) continue;
    if (typeof r === "string") {
      out.push(unknownOutcome(info, c.rule, r, st, p, trail));
      return;
    }
    if (r === true) {
      if (!applyTarget(walk, info, cands, k, c, st, p, trail, depth, undefined, out)) return;
      st = walk.nextSt!;
      p = walk.nextP;
      trail = walk.nextTrail;
      continue;
    }
    // A statistic match: fork. Matched branches first: the taken jump reads best before the fall-through.
    const branches = evalSlow(c, cloneState(st), walk.ctx);
    for (let b = branches.length - 1; b >= 0; b--) {
      const br = branches[b]!;
      const bp = p * br.q;
      if (bp <= 0) continue;
      walk.paths += 1;
      if (walk.paths > walk.maxPaths) {
        out.push(
          unknownOutcome(info, c.rule, `more than ${walk.maxPaths} random branches`, br.st, bp, trail),
        );
      } else if (br.res === false) {
        walkFrom(walk, info, cands, k + 1, br.st, bp, trail, depth, out);
      } else if (typeof br.res === "string") {
        out.push(unknownOutcome(info, c.rule, br.res, br.st, bp, trail));
      } else if (applyTarget(walk, info, cands, k, c, br.st, bp, trail, depth, br.q, out)) {
        walkFrom(walk, info, cands, k + 1, walk.nextSt!, walk.nextP, walk.nextTrail, depth, out);
      }
    }
    walk.paths -= 1;
    return;
  }
  out.push({ p, st, trail, v: RETURN });
}

/**
 * Applies a matched rule's target. Returns true when the walk goes on with the chain's next rule,
 * with the state, probability and trail left in `walk.nextSt`/`nextP`/`nextTrail`; false when the
 * paths are finished (pushed to `out`).
 */
function applyTarget(
  walk: Walk,
  info: ChainInfo,
  cands: readonly number[] | null,
  k: number,
  c: CompiledRule,
  st: WalkState,
  p: number,
  trail0: Trail | undefined,
  depth: number,
  q: number | undefined,
  out: Outcome[],
): boolean {
  const t = c.target;
  const rule = c.rule;
  if (t.kind === "unknown") {
    out.push(unknownOutcome(info, rule, t.reason, st, p, trail0));
    return false;
  }
  if (t.kind === "dnat" && t.range === undefined) {
    out.push(unknownOutcome(info, rule, "DNAT without --to-destination", st, p, trail0));
    return false;
  }
  let redirectTo: number | undefined;
  if (t.kind === "redirect") {
    redirectTo = st.hook === "OUTPUT" ? LOCALHOST : walk.ctx.localIps?.[0];
    if (redirectTo === undefined) {
      out.push(
        unknownOutcome(
          info,
          rule,
          "REDIRECT goes to the in-interface's address, which is not known (give --local-ip)",
          st,
          p,
          trail0,
        ),
      );
      return false;
    }
  }
  if (t.kind === "chain") return enterChain(walk, info, cands, k, c, t, st, p, trail0, depth, q, out);
  const action = rewrite(t, st, redirectTo);
  const step = stepOf(info, rule, c, q, action);
  const trail: Trail = { s: step, prev: trail0 };
  switch (t.kind) {
    case "none":
    case "continue":
    case "mark":
    case "connmark":
    case "notrack":
      return next(walk, st, p, trail);
    case "drop":
      out.push({ p, st, trail, v: DROP, by: step });
      return false;
    case "reject":
      out.push({ p, st, trail, v: { k: "reject", rejectWith: t.rejectWith }, by: step });
      return false;
    case "return":
      out.push({ p, st, trail, v: RETURN });
      return false;
    default:
      // ACCEPT and the NAT targets end this table's traversal of the hook.
      out.push({ p, st, trail, v: ACCEPT });
      return false;
  }
}

/** A jump or goto: walks the called chain, then goes on here with the paths that returned. */
function enterChain(
  walk: Walk,
  info: ChainInfo,
  cands: readonly number[] | null,
  k: number,
  c: CompiledRule,
  t: Extract<CompiledTarget, { kind: "chain" }>,
  st: WalkState,
  p: number,
  trail0: Trail | undefined,
  depth: number,
  q: number | undefined,
  out: Outcome[],
): boolean {
  const rule = c.rule;
  // Resolved once per rule: a Map lookup among 100k+ chain names per jump costs more than the jump.
  let target = c.targetChain;
  if (target === undefined) {
    target = chainInfo(walk.index, info.table, t.name);
    if (target !== undefined) c.targetChain = target;
  }
  if (target === undefined) {
    out.push(unknownOutcome(info, rule, `chain "${t.name}" does not exist`, st, p, trail0));
    return false;
  }
  if (depth >= MAX_DEPTH) {
    out.push(unknownOutcome(info, rule, `jumps nest deeper than ${MAX_DEPTH}`, st, p, trail0));
    return false;
  }
  const trail: Trail = { s: stepOf(info, rule, c, q), prev: trail0 };
  const mark = out.length;
  walkFrom(walk, target, candidateRules(target, st.dst, st.dport), 0, st, p, trail, depth + 1, out);
  if (t.goto) return false;
  // The called chain's paths were appended to `out`; the ones that returned go on here, in place.
  if (out.length === mark + 1) {
    const o = out[mark]!;
    if (o.v.k !== "return") return false;
    out.pop();
    return next(walk, o.st, o.p, o.trail);
  }
  let returned = false;
  for (let i = mark; i < out.length && !returned; i++) returned = out[i]!.v.k === "return";
  if (!returned) return false;
  const results = out.splice(mark);
  for (const o of results) {
    if (o.v.k === "return") walkFrom(walk, info, cands, k + 1, o.st, o.p, o.trail, depth, out);
    else out.push(o);
  }
  return false;
}

/**
 * Applies a non-jump target's changes to the path's state (marks, conntrack, NAT). Returns the
 * step's action text when it depends on the packet (REDIRECT), else undefined.
 */
function rewrite(t: CompiledTarget, st: WalkState, redirectTo: number | undefined): string | undefined {
  let action: string | undefined;
  switch (t.kind) {
    case "mark":
      st.mark = t.apply(st.mark);
      break;
    case "connmark":
      if (!st.untracked) [st.mark, st.ctmark] = t.apply(st.mark, st.ctmark);
      break;
    case "notrack":
      st.untracked = true;
      break;
    case "dnat": {
      const r = t.range!;
      if (r.minIp === r.maxIp) st.dst = r.minIp;
      else st.dstText = r.text;
      if (r.minPort !== undefined && st.dport >= 0) {
        if (r.minPort === r.maxPort) st.dport = r.minPort;
        // The kernel keeps a port that already lies in the range.
        else if (st.dport < r.minPort || st.dport > r.maxPort!) st.dstText = r.text;
      }
      st.dnat = true;
      break;
    }
    case "snat": {
      const r = t.range;
      st.snat = true;
      if (r.minIp === r.maxIp && (r.minPort === undefined || r.minPort === r.maxPort)) {
        st.src = r.minIp;
        if (r.minPort !== undefined && st.sport >= 0) st.sport = r.minPort;
      } else st.srcText = r.text;
      break;
    }
    case "masquerade":
      st.snat = true;
      st.masquerade = true;
      break;
    case "redirect":
      st.dst = redirectTo!;
      if (t.port !== undefined && st.dport >= 0) st.dport = t.port;
      st.dnat = true;
      action = `REDIRECT to ${endpointText(st.dst, st.dport)}`;
      break;
    default:
  }
  return action;
}
