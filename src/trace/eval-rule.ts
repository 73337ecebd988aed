/**
 * Evaluates a compiled rule's tests on a path: the numeric IP header pre-checks first, then the
 * match tests; a probability (statistic) splits the path into weighted branches.
 */
import { type CompiledRule, RANDOM_ONLY } from "./compile-rule.ts";
import type { MatchContext, MatchResult, Undecided } from "./match-test.ts";
import { cloneState, type WalkState } from "./walk-state.ts";

export const FORK = Symbol("fork");

/**
 * The rule's IP header checks (see {@linkcode CompiledRule.sm}): most rules a walk passes fail here,
 * so the walker calls this first, in its loop, and {@linkcode evalTests} only for the rest.
 */
export function headerMatches(c: CompiledRule, st: WalkState): boolean {
  return (
    ((st.src & c.sm) === c.sb) !== c.sn &&
    ((st.dst & c.dm) === c.db) !== c.dn &&
    (c.pr < 0 || (st.protoNum === c.pr) !== c.pn) &&
    (c.dplo < 0 || (st.dport >= 0 && (st.dport >= c.dplo && st.dport <= c.dphi) !== c.dpn))
  );
}

/**
 * Evaluates the tests of a rule whose header matched, without forking; FORK when a probability needs
 * the slow path ({@linkcode evalSlow}).
 */
export function evalTests(
  c: CompiledRule,
  st: WalkState,
  ctx: MatchContext,
): boolean | Undecided | typeof FORK {
  const tests = c.tests;
  if (tests === RANDOM_ONLY) return FORK;
  let pending: Undecided | undefined;
  for (let i = 0; i < tests.length; i++) {
    const r = tests[i]!(st, ctx);
    if (r === true) continue;
    if (r === false) return false;
    if (typeof r === "object") {
      pending ??= r;
      continue;
    }
    return FORK;
  }
  return pending ?? true;
}

export interface Branch {
  readonly q: number;
  readonly st: WalkState;
  readonly res: boolean | Undecided;
}

/** Evaluates tests in order, splitting at each probability; side effects land in each branch's state. */
export function evalSlow(c: CompiledRule, st: WalkState, ctx: MatchContext): Branch[] {
  const out: Branch[] = [];
  let q = 1;
  let pending: Undecided | undefined;
  if (!headerMatches(c, st)) {
    out.push({ q, st, res: false });
    return out;
  }
  if (c.prob > 0) {
    // What the statistic test would answer as the rule's only test: the two branches.
    out.push({ q: 1 - c.prob, st: cloneState(st), res: false });
    out.push({ q: c.prob, st, res: true });
    return out;
  }
  for (let i = 0; i < c.tests.length; i++) {
    const r: MatchResult = c.tests[i]!(st, ctx);
    if (r === true) continue;
    if (r === false) {
      out.push({ q, st, res: false });
      return out;
    }
    if (typeof r === "object") {
      pending ??= r;
      continue;
    }
    out.push({ q: q * (1 - r), st: cloneState(st), res: false });
    q *= r;
  }
  out.push({ q, st, res: pending ?? true });
  return out;
}
