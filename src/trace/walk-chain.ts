/**
 * Walks one chain's rules for a path: evaluates each candidate rule, forks at random branches and
 * applies matched targets (rewrites, jumps and gotos into other chains, verdicts).
 *
 * Shape: a {@linkcode ChainWalk} says which chain is walked, how deep in jumps, and where finished
 * paths go; a {@linkcode Head} is the path being carried forward (state, probability, steps). A rule
 * either lets the head go on (it is updated in place and the loop continues with the next rule) or
 * finishes it (pushed to `out`). Long chains of rules that let the packet go on therefore neither
 * grow the stack nor allocate result lists.
 */
import { applyMarks, applyNat } from "./apply-rewrite.ts";
import { candidateRules } from "./chain-dispatch.ts";
import { type CompiledRule, memoOf } from "./compile-rule.ts";
import type { CompiledTarget } from "./compile-target.ts";
import { evalFast, evalSlow } from "./eval-rule.ts";
import { undecided } from "./match-test.ts";
import { type ChainInfo, chainInfo, compiledRule } from "./trace-index.ts";
import { stepOf, unknownOutcome } from "./trace-steps.ts";
import { ACCEPT, DROP, type Outcome, outcome, RETURN, type Trail, type Walk } from "./walk-context.ts";
import { cloneState } from "./walk-state.ts";

const MAX_DEPTH = 64;
/** 127.0.0.1: where REDIRECT sends a packet of the node's own OUTPUT. */
const LOCALHOST = 0x7f000001;
const NO_REDIRECT_ADDRESS = undecided(
  "REDIRECT goes to the in-interface's address, which is not known (give --local-ip)",
  "node-addresses",
);
const NO_DNAT_TARGET = undecided("DNAT without --to-destination", "manual-check");

/**
 * One chain being walked for one or more paths: a frame of the depth-first walk. A frame is in use
 * only while its chain is walked, and a chain entered at depth d ends before the next chain at
 * depth d starts, so the walk keeps one frame per depth and reuses it (`frameAt`): no allocation
 * per jump.
 */
export interface ChainWalk {
  readonly walk: Walk;
  info: ChainInfo;
  /** Candidate rule positions for the path's destination (see `candidateRules`), null for all. */
  cands: readonly number[] | null;
  /** How many jumps deep this chain is (0 for a built-in chain). */
  readonly depth: number;
  /** Where finished paths (accept, drop, reject, unknown, return) are appended. */
  out: Outcome[];
}

/** The frame of a chain entered at `depth` by `head` (the walk's frame for that depth, reused). */
function frameAt(walk: Walk, depth: number, info: ChainInfo, head: Head, out: Outcome[]): ChainWalk {
  const cands = candidateRules(info, head.st.dst, head.st.dport);
  const f = walk.frames[depth];
  if (f === undefined) {
    const frame: ChainWalk = { walk, info, cands, depth, out };
    walk.frames.push(frame);
    return frame;
  }
  f.info = info;
  f.cands = cands;
  f.out = out;
  return f;
}

/**
 * The path being carried forward through a chain, updated in place rule by rule: an
 * {@linkcode Outcome} whose verdict is still accept.
 */
export type Head = Outcome;

/** Walks `info`'s chain from its first rule for `head`, appending every finished path to `out`. */
export function walkChain(walk: Walk, at: { info: ChainInfo; head: Head; out: Outcome[] }): void {
  walkFrom(frameAt(walk, 0, at.info, at.head, at.out), 0, at.head);
}

/** Walks `cw`'s chain from candidate position `pos`. */
function walkFrom(cw: ChainWalk, pos: number, head: Head): void {
  const { walk, info, cands } = cw;
  const { index, ctx } = walk;
  const n = cands === null ? info.length : cands.length;
  let st = head.st;
  for (let k = pos; k < n; k++) {
    const c = compiledRule(index, info, cands === null ? k : cands[k]!);
    const r = evalFast(c, st, ctx);
    if (r === false) continue;
    if (r === true) {
      if (!applyTarget(cw, k, c, head, undefined)) return;
      // The target may have replaced the head's state (a jump whose chain returned one path).
      st = head.st;
      continue;
    }
    if (typeof r === "object") {
      cw.out.push(unknownOutcome(index, info, c.rule, r, head));
      return;
    }
    fork(cw, k, c, head);
    return;
  }
  cw.out.push(outcome(head.p, st, head.trail, RETURN));
}

/** A statistic match: one branch per outcome. Matched branches first: the taken jump reads best first. */
function fork(cw: ChainWalk, k: number, c: CompiledRule, head: Head): void {
  const { walk, info } = cw;
  const branches = evalSlow(c, cloneState(head.st), walk.ctx);
  for (let b = branches.length - 1; b >= 0; b--) {
    const br = branches[b]!;
    const branch = outcome(head.p * br.q, br.st, head.trail, ACCEPT);
    if (branch.p <= 0) continue;
    walk.paths += 1;
    if (walk.paths > walk.maxPaths) {
      const why = undecided(`more than ${walk.maxPaths} random branches`, "path-limit");
      cw.out.push(unknownOutcome(walk.index, info, c.rule, why, branch));
    } else if (br.res === false) {
      walkFrom(cw, k + 1, branch);
    } else if (typeof br.res === "object") {
      cw.out.push(unknownOutcome(walk.index, info, c.rule, br.res, branch));
    } else if (applyTarget(cw, k, c, branch, br.q)) {
      walkFrom(cw, k + 1, branch);
    }
  }
  walk.paths -= 1;
}

/**
 * Applies a matched rule's target to `head`. Returns true when the head goes on with the chain's
 * next rule (its state and trail updated in place), false when the paths are finished (in `out`).
 * `q` is the probability of the branch that took the rule, when a statistic match forked.
 */
function applyTarget(cw: ChainWalk, k: number, c: CompiledRule, head: Head, q: number | undefined): boolean {
  const { walk, info, out } = cw;
  const t = c.target;
  switch (t.kind) {
    case "unknown":
      out.push(unknownOutcome(walk.index, info, c.rule, t, head));
      return false;
    case "chain":
      return enterChain(cw, k, c, head, q);
    case "dnat":
    case "snat":
    case "masquerade":
    case "redirect":
      return applyNatTarget(cw, c, head, q);
    default:
  }
  const step = stepOf(walk.index, info, c, q);
  const trail: Trail = { s: step, prev: head.trail };
  switch (t.kind) {
    case "none":
    case "continue":
    case "mark":
    case "connmark":
    case "notrack":
      applyMarks(t, head.st);
      head.trail = trail;
      return true;
    case "drop":
      out.push(outcome(head.p, head.st, trail, DROP, step));
      return false;
    case "reject":
      out.push(outcome(head.p, head.st, trail, { k: "reject", rejectWith: t.rejectWith }, step));
      return false;
    case "return":
      out.push(outcome(head.p, head.st, trail, RETURN));
      return false;
    default:
      out.push(outcome(head.p, head.st, trail, ACCEPT));
      return false;
  }
}

/** DNAT/SNAT/MASQUERADE/REDIRECT: rewrites the head and ends this table's traversal of the hook. */
function applyNatTarget(cw: ChainWalk, c: CompiledRule, head: Head, q: number | undefined): false {
  const { walk, info, out } = cw;
  const t = c.target;
  if (t.kind === "dnat" && t.range === undefined) {
    out.push(unknownOutcome(walk.index, info, c.rule, NO_DNAT_TARGET, head));
    return false;
  }
  let redirectTo: number | undefined;
  if (t.kind === "redirect") {
    redirectTo = head.st.hook === "OUTPUT" ? LOCALHOST : walk.ctx.localIps?.[0];
    if (redirectTo === undefined) {
      out.push(unknownOutcome(walk.index, info, c.rule, NO_REDIRECT_ADDRESS, head));
      return false;
    }
  }
  const step = applyNat({ index: walk.index, info, c }, head.st, { q, redirectTo });
  out.push(outcome(head.p, head.st, { s: step, prev: head.trail }, ACCEPT));
  return false;
}

/** A jump or goto: walks the called chain, then goes on here with the paths that returned. */
function enterChain(cw: ChainWalk, k: number, c: CompiledRule, head: Head, q: number | undefined): boolean {
  const { walk, info, out } = cw;
  const t = c.target as Extract<CompiledTarget, { kind: "chain" }>;
  // Resolved once per rule: a Map lookup among 100k+ chain names per jump costs more than the jump.
  const memo = memoOf(c);
  let target = memo.targetChain;
  if (target === undefined) {
    target = chainInfo(walk.index, info.table, t.name);
    if (target !== undefined) memo.targetChain = target;
  }
  if (target === undefined) {
    const why = undecided(`chain "${t.name}" does not exist`, "complete-dump");
    out.push(unknownOutcome(walk.index, info, c.rule, why, head));
    return false;
  }
  if (cw.depth >= MAX_DEPTH) {
    const why = undecided(`jumps nest deeper than ${MAX_DEPTH}`, "manual-check");
    out.push(unknownOutcome(walk.index, info, c.rule, why, head));
    return false;
  }
  const mark = out.length;
  const called = frameAt(walk, cw.depth + 1, target, head, out);
  // The head itself walks into the called chain: when exactly one path returns, it is that head.
  head.trail = { s: stepOf(walk.index, info, c, q), prev: head.trail };
  walkFrom(called, 0, head);
  if (t.goto) return false;
  return resume(cw, k, head, mark);
}

/**
 * After a called chain appended its paths to `out` from `mark` on: the ones that returned go on
 * after rule `k`. One returned path goes on in `head` (true); several are walked from here (false).
 */
function resume(cw: ChainWalk, k: number, head: Head, mark: number): boolean {
  const out = cw.out;
  if (out.length === mark + 1) {
    const o = out[mark]!;
    if (o.v.k !== "return") return false;
    out.pop();
    head.st = o.st;
    head.p = o.p;
    head.trail = o.trail;
    return true;
  }
  let returned = false;
  for (let i = mark; i < out.length && !returned; i++) returned = out[i]!.v.k === "return";
  if (!returned) return false;
  const results = out.splice(mark);
  for (const o of results) {
    if (o.v.k === "return") {
      o.v = ACCEPT;
      walkFrom(cw, k + 1, o);
    } else out.push(o);
  }
  return false;
}
