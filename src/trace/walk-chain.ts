/**
 * Walks one chain's rules for a path: evaluates each candidate rule, forks at random branches and
 * applies matched targets (rewrites, jumps and gotos into other chains, verdicts).
 *
 * Shape: a {@linkcode ChainWalk} says which chain is walked, how deep in jumps, and where finished
 * paths go; a {@linkcode Head} is the path being carried forward (state, probability, steps). A
 * matched rule's target answers {@linkcode Next}: the head goes on with the next rule (updated in
 * place), returns from the chain (the caller goes on with it), or is done (its paths are in `out`).
 * Long chains of rules that let the packet go on neither grow the stack nor allocate, and a chain
 * that returns its head allocates nothing either.
 */
import { applyMarks, applyNat } from "./apply-rewrite.ts";
import { candidateRules, lastCopy } from "./chain-dispatch.ts";
import { type CompiledRule, memoOf } from "./compile-rule.ts";
import type { CompiledTarget } from "./compile-target.ts";
import { evalSlow, evalTests, headerMatches } from "./eval-rule.ts";
import { type Undecided, undecided } from "./match-test.ts";
import { type ChainInfo, chainInfo, compiledRule } from "./trace-index.ts";
import { stepOf, unknownOutcome } from "./trace-steps.ts";
import {
  ACCEPT,
  DROP,
  type Outcome,
  outcome,
  RETURN,
  type Trail,
  type Verdict,
  type Walk,
} from "./walk-context.ts";
import { cloneState } from "./walk-state.ts";

const MAX_DEPTH = 64;
/** 127.0.0.1: where REDIRECT sends a packet of the node's own OUTPUT. */
const LOCALHOST = 0x7f000001;
const NO_REDIRECT_ADDRESS = undecided(
  "REDIRECT goes to the in-interface's address, which is not known (give --local-ip)",
  "node-addresses",
);
const NO_DNAT_TARGET = undecided("DNAT without --to-destination", "manual-check");

/** What a matched rule's target does with the head. */
type Next = typeof GO_ON | typeof RETURNED | typeof DONE;
/** The head goes on with the chain's next rule. */
const GO_ON = 0;
/** The head leaves the chain (RETURN, the chain's end, or a goto'd chain that returned): its caller goes on. */
const RETURNED = 1;
/** The head's paths are finished, in `out` (where paths that returned carry the RETURN verdict). */
const DONE = 2;

/**
 * One chain being walked for one or more paths: a frame of the depth-first walk. A frame is in use
 * only while its chain is walked, and a chain entered at depth d ends before the next chain at
 * depth d starts, so the walk keeps one frame per depth and reuses it (`frameAt`).
 */
export interface ChainWalk {
  readonly walk: Walk;
  info: ChainInfo;
  /** Candidate rule positions for the path's destination (see `candidateRules`), null for all. */
  cands: readonly number[] | null;
  /** How many jumps deep this chain is (0 for a built-in chain). */
  readonly depth: number;
  /** Where finished paths (accept, drop, reject, unknown, and forked paths that returned) go. */
  out: Outcome[];
}

/** The frame of a chain entered at `depth` (the walk's frame for that depth, reused). */
function frameAt(
  walk: Walk,
  depth: number,
  info: ChainInfo,
  at: { cands: ChainWalk["cands"]; out: Outcome[] },
) {
  const f = walk.frames[depth];
  if (f === undefined) {
    const frame: ChainWalk = { walk, info, cands: at.cands, depth, out: at.out };
    walk.frames.push(frame);
    return frame;
  }
  f.info = info;
  f.cands = at.cands;
  f.out = at.out;
  return f;
}

/**
 * The path being carried forward through a chain, updated in place rule by rule: an
 * {@linkcode Outcome} whose verdict is still accept.
 */
export type Head = Outcome;

/**
 * Walks `info`'s chain from its first rule for `head`. Returns true when the head itself returned
 * from the chain (the caller applies the policy); the other paths (finished, or forked paths that
 * returned, with the RETURN verdict) are appended to `out`.
 */
export function walkChain(walk: Walk, at: { info: ChainInfo; head: Head; out: Outcome[] }): boolean {
  const cands = candidateRules(at.info, at.head.st.dst, at.head.st.dport);
  return walkFrom(frameAt(walk, 0, at.info, { cands, out: at.out }), 0, at.head);
}

/** Walks `cw`'s chain from candidate position `pos`; true when `head` returned from the chain. */
function walkFrom(cw: ChainWalk, pos: number, head: Head): boolean {
  const { walk, info, cands } = cw;
  const { index, ctx } = walk;
  const n = cands === null ? info.length : cands.length;
  let st = head.st;
  const copies = info.index?.copies;
  for (let k = pos; k < n; k++) {
    const c = compiledRule(index, info, cands === null ? k : cands[k]!);
    if (!headerMatches(c, st)) {
      if (copies !== undefined) k = lastCopy(copies, cands, k, n);
      continue;
    }
    const r = evalTests(c, st, ctx);
    if (r === false) {
      if (copies !== undefined) k = lastCopy(copies, cands, k, n);
      continue;
    }
    if (r === true) {
      const next = applyTarget(cw, k, c, head, undefined);
      if (next !== GO_ON) return next === RETURNED;
      // The target may have replaced the head's state (a jump whose chain returned one path).
      st = head.st;
      continue;
    }
    if (typeof r === "object") return cannotDecide(cw, c, r, head);
    fork(cw, k, c, head);
    return false;
  }
  return true;
}

/** Ends `head` (in place) with a verdict and the step that decided it; pushes it to `out`. */
function finish(cw: ChainWalk, head: Head, verdict: Verdict, by: Trail): typeof DONE {
  head.trail = by;
  head.v = verdict;
  head.by = verdict === RETURN || verdict === ACCEPT ? undefined : by.s;
  cw.out.push(head);
  return DONE;
}

function cannotDecide(cw: ChainWalk, c: CompiledRule, why: Undecided, head: Head): false {
  cw.out.push(unknownOutcome(cw.walk.index, cw.info, c.rule, why, head));
  return false;
}

/** A branch (or a resumed path) goes on from rule `k + 1`; if it returns from the chain, it says so in `out`. */
function goOn(cw: ChainWalk, k: number, path: Head): void {
  path.v = ACCEPT;
  if (walkFrom(cw, k + 1, path)) {
    path.v = RETURN;
    cw.out.push(path);
  }
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
      goOn(cw, k, branch);
    } else if (typeof br.res === "object") {
      cw.out.push(unknownOutcome(walk.index, info, c.rule, br.res, branch));
    } else {
      const next = applyTarget(cw, k, c, branch, br.q);
      if (next === GO_ON) goOn(cw, k, branch);
      else if (next === RETURNED) finish(cw, branch, RETURN, branch.trail!);
    }
  }
  walk.paths -= 1;
}

/**
 * Applies a matched rule's target to `head` (see {@linkcode Next}). `q` is the probability of the
 * branch that took the rule, when a statistic match forked.
 */
function applyTarget(cw: ChainWalk, k: number, c: CompiledRule, head: Head, q: number | undefined): Next {
  const { walk, info } = cw;
  const t = c.target;
  switch (c.targetKind) {
    case "unknown":
      cannotDecide(cw, c, t as Extract<CompiledTarget, { kind: "unknown" }>, head);
      return DONE;
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
  switch (c.targetKind) {
    case "mark":
    case "connmark":
    case "notrack":
      applyMarks(t, head.st);
      head.trail = trail;
      return GO_ON;
    case "none":
    case "continue":
      head.trail = trail;
      return GO_ON;
    case "drop":
      return finish(cw, head, DROP, trail);
    case "reject":
      return finish(cw, head, { k: "reject", rejectWith: (t as { rejectWith: string }).rejectWith }, trail);
    case "return":
      head.trail = trail;
      return RETURNED;
    default:
      // ACCEPT ends this table's traversal of the hook.
      return finish(cw, head, ACCEPT, trail);
  }
}

/** DNAT/SNAT/MASQUERADE/REDIRECT: rewrites the head and ends this table's traversal of the hook. */
function applyNatTarget(cw: ChainWalk, c: CompiledRule, head: Head, q: number | undefined): typeof DONE {
  const { walk, info } = cw;
  if (c.targetKind === "dnat" && (c.target as { range?: unknown }).range === undefined) {
    cannotDecide(cw, c, NO_DNAT_TARGET, head);
    return DONE;
  }
  let redirectTo: number | undefined;
  if (c.targetKind === "redirect") {
    redirectTo = head.st.hook === "OUTPUT" ? LOCALHOST : walk.ctx.localIps?.[0];
    if (redirectTo === undefined) {
      cannotDecide(cw, c, NO_REDIRECT_ADDRESS, head);
      return DONE;
    }
  }
  const step = applyNat({ index: walk.index, info, c }, head.st, { q, redirectTo });
  return finish(cw, head, ACCEPT, { s: step, prev: head.trail });
}

/** The chain a jump/goto goes to (resolved once per rule: a Map lookup among 100k+ names costs more than the jump). */
function targetOf(cw: ChainWalk, c: CompiledRule, name: string): ChainInfo | undefined {
  const memo = memoOf(c);
  let target = memo.targetChain;
  if (target === undefined) {
    target = chainInfo(cw.walk.index, cw.info.table, name);
    if (target !== undefined) memo.targetChain = target;
  }
  return target;
}

/** A jump or goto: walks the called chain, then goes on here with the paths that returned. */
function enterChain(cw: ChainWalk, k: number, c: CompiledRule, head: Head, q: number | undefined): Next {
  const t = c.target as Extract<CompiledTarget, { kind: "chain" }>;
  const target = targetOf(cw, c, t.name);
  if (target === undefined) {
    cannotDecide(cw, c, undecided(`chain "${t.name}" does not exist`, "complete-dump"), head);
    return DONE;
  }
  if (cw.depth >= MAX_DEPTH) {
    cannotDecide(cw, c, undecided(`jumps nest deeper than ${MAX_DEPTH}`, "manual-check"), head);
    return DONE;
  }
  const cands = candidateRules(target, head.st.dst, head.st.dport);
  head.trail = { s: stepOf(cw.walk.index, cw.info, c, q), prev: head.trail };
  // No rule of the called chain can match (empty, or none for this destination): it returns at once.
  if ((cands === null ? target.length : cands.length) === 0) return t.goto ? RETURNED : GO_ON;
  const mark = cw.out.length;
  // The head itself walks into the called chain: when it returns, it goes on here (or, after a
  // goto, returns past this chain); forked paths that returned are in `out` from `mark` on.
  const returned = walkFrom(frameAt(cw.walk, cw.depth + 1, target, { cands, out: cw.out }), 0, head);
  if (t.goto) return returned ? RETURNED : DONE;
  if (returned) return GO_ON;
  resume(cw, k, mark);
  return DONE;
}

/** After a called chain forked: the paths it returned (in `out` from `mark` on) go on after rule `k`. */
function resume(cw: ChainWalk, k: number, mark: number): void {
  const out = cw.out;
  let returned = false;
  for (let i = mark; i < out.length && !returned; i++) returned = out[i]!.v.k === "return";
  if (!returned) return;
  const results = out.splice(mark);
  for (const o of results) {
    if (o.v.k === "return") goOn(cw, k, o);
    else out.push(o);
  }
}
