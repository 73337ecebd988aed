/**
 * A rule compiled for the tracer: its tests in kernel order (IP header fields first, then the
 * `-m` matches as written) and its target in a form the walker can apply. Compiled once per rule
 * and cached, so repeated traces on one ruleset cost only the tests.
 */
import type { Match, Rule, RuleSpec } from "../model/ruleset.ts";
import type { EvidenceRef, FilterStep } from "../model/trace-step.ts";
import { parseRule } from "../parse/parse-rule.ts";
import { compileHeader, NO_HEADER } from "./compile-header.ts";
import { compileMatch } from "./compile-match.ts";
import { type CompiledTarget, compileTarget } from "./compile-target.ts";
import { compileProtoMatch, parsePortRange } from "./match-ports.ts";
import { type MatchTest, PROTOCOL_NUMBERS, undecided } from "./match-test.ts";
import type { ChainInfo } from "./trace-index.ts";

export interface CompiledRule {
  /**
   * The IP header checks, evaluated before `tests` as plain numbers (no closure calls): the packet
   * matches when `((src & sm) === sb) !== sn`, likewise for the destination, and its protocol number
   * is `pr` (xor `pn`) unless `pr` is -1. A rule without `-s` has `sm = sb = 0`. Masks and bases are
   * int32 (`x | 0`) so they stay small integers. Moving these ahead of the other tests is exact:
   * the kernel checks them first and they never fork, never leave a side effect and never answer
   * "cannot decide".
   */
  readonly sm: number;
  readonly sb: number;
  readonly sn: boolean;
  readonly dm: number;
  readonly db: number;
  readonly dn: boolean;
  readonly pr: number;
  readonly pn: boolean;
  /**
   * A `--dport lo[:hi]` of the first protocol match, checked with the header (-1: none): the
   * packet matches when it has a port and `(lo <= dport <= hi) !== dpn`. Only taken out of `tests`
   * when nothing before it in the rule can fork or have a side effect, so the order does not matter.
   */
  readonly dplo: number;
  readonly dphi: number;
  readonly dpn: boolean;
  /**
   * The probability of a rule whose only test besides the header is `-m statistic --mode random`
   * (kube-proxy's endpoint choice), in (0, 1); 0 when the rule has no such test. Kept out of `tests`
   * so the walker forks without a closure call.
   */
  readonly prob: number;
  /**
   * The match tests after the header. {@linkcode NO_TESTS} (shared, so it stays in cache) when there
   * are none, {@linkcode RANDOM_ONLY} when `prob` is the rule's only test: the walker then forks
   * without reading `prob` for every rule it passes.
   */
  readonly tests: readonly MatchTest[];
  readonly target: CompiledTarget;
  /** `target.kind`, kept here: read on every match, from an object already in cache. */
  readonly targetKind: CompiledTarget["kind"];
  /** The rule itself (its line and text are read only for the steps). */
  readonly rule: Rule;
  /**
   * What the tracer keeps about a rule once it matched (created on first match). Kept out of this
   * object: the walker scans compiled rules by the thousand, and a smaller object is a faster scan.
   */
  memo: RuleMemo | undefined;
}

/** What the tracer keeps about a rule that matched, for the next traces. */
export interface RuleMemo {
  /** The rule's filter step when its action does not depend on the packet. */
  step: FilterStep | undefined;
  /** The step of the matched branch of a statistic rule, with its probability. */
  qStep: FilterStep | undefined;
  /** The chain a jump/goto goes to. */
  targetChain: ChainInfo | undefined;
  /** A NAT rule's evidence and text, shared by its transform steps. */
  natEvidence: EvidenceRef | undefined;
  natRule: string | undefined;
}

/** The memo of a matched rule, created on its first match. */
export function memoOf(c: CompiledRule): RuleMemo {
  let m = c.memo;
  if (m === undefined) {
    m = {
      step: undefined,
      qStep: undefined,
      targetChain: undefined,
      natEvidence: undefined,
      natRule: undefined,
    };
    c.memo = m;
  }
  return m;
}

/** The tests of every rule that has none besides its header. */
export const NO_TESTS: readonly MatchTest[] = Object.freeze([]);
/** The tests of every rule whose only test besides its header is its `prob` (see `randomOnly`). */
export const RANDOM_ONLY: readonly MatchTest[] = Object.freeze([]);

/**
 * A rule's parsed spec without caching it on the rule. A lazily parsed dump rule keeps its spec once
 * read, and the tracer needs it only while compiling: parsing a copy lets it go afterwards, so a
 * million-rule dump does not keep the specs of every rule a trace (or a linear scan) reached.
 * Rules that carry their spec as data (not a lazy getter) are read as they are.
 * @throws {DumpSyntaxError} When the rule's text does not parse.
 */
export function specOf(rule: Rule): RuleSpec {
  const own = Object.getOwnPropertyDescriptor(rule, "spec");
  return own !== undefined ? rule.spec : parseRule(rule.text, rule.line).spec;
}

/** Compiles one rule; a rule that fails to parse compiles to a single unknown test. */
export function compileRule(rule: Rule, isChain: (name: string) => boolean): CompiledRule {
  let spec: Rule["spec"];
  try {
    spec = specOf(rule);
  } catch (error) {
    const reason = `the rule cannot be parsed: ${(error as Error).message}`;
    const u = undecided(reason, "parsable-rule");
    return compiled(
      NO_HEADER,
      [() => u],
      compileTarget(undefined, () => false, u),
      rule,
    );
  }
  const tests: MatchTest[] = [];
  const header = compileHeader(spec, tests);
  const port = { lo: -1, hi: -1, neg: false };
  let pure = true;
  for (const m of spec.matches) {
    if (
      pure &&
      port.lo < 0 &&
      header.pr >= 0 &&
      !header.pn &&
      PROTOCOL_NUMBERS[m.module] === header.pr &&
      (m.module === "tcp" || m.module === "udp" || m.module === "sctp")
    ) {
      const o = m.options.find((x) => x.name === "--dport" || x.name === "--destination-port");
      const range = o === undefined ? undefined : parsePortRange(o.values.join(" "));
      if (o !== undefined && range !== undefined) {
        port.lo = range[0];
        port.hi = range[1];
        port.neg = o.negated;
      }
      tests.push(...compileProtoMatch(m, { protoChecked: true, skip: range === undefined ? undefined : o }));
      continue;
    }
    // Modules whose tests never fork nor write state may come before an inlined port check.
    if (m.module !== "comment" && m.module !== "nfacct") pure = false;
    tests.push(...compileMatch(m));
  }
  const prob = tests.length === 1 && spec.fragment === undefined ? randomOnly(spec.matches) : 0;
  const numbers = { ...header, prob, dplo: port.lo, dphi: port.hi, dpn: port.neg };
  const shared = prob > 0 ? RANDOM_ONLY : tests.length === 0 ? NO_TESTS : tests;
  return compiled(numbers, shared, compileTarget(spec.target, isChain), rule);
}

type RuleNumbers = Pick<
  CompiledRule,
  "sm" | "sb" | "sn" | "dm" | "db" | "dn" | "pr" | "pn" | "prob" | "dplo" | "dphi" | "dpn"
>;

/**
 * A compiled rule with every field present in one order, the caches included: the walker reads
 * them on every matched rule, and one object layout keeps those reads monomorphic.
 */
function compiled(
  n: RuleNumbers,
  tests: readonly MatchTest[],
  target: CompiledTarget,
  rule: Rule,
): CompiledRule {
  return {
    sm: n.sm,
    sb: n.sb,
    sn: n.sn,
    dm: n.dm,
    db: n.db,
    dn: n.dn,
    pr: n.pr,
    pn: n.pn,
    dplo: n.dplo,
    dphi: n.dphi,
    dpn: n.dpn,
    prob: n.prob,
    tests,
    target,
    targetKind: target.kind,
    rule,
    memo: undefined,
  };
}

/**
 * The probability of the rule's `-m statistic --mode random --probability P` when its matches are
 * that one and comments only, and the probability is strictly between 0 and 1 (the cases where the
 * compiled test answers a number, see `compileStatistic`); 0 otherwise.
 */
function randomOnly(matches: readonly Match[]): number {
  let q = 0;
  for (const m of matches) {
    if (m.module === "comment" || m.module === "nfacct") continue;
    if (m.module !== "statistic" || q !== 0) return 0;
    const mode = m.options.find((o) => o.name === "--mode")?.values[0];
    const o = m.options.find((x) => x.name === "--probability");
    const p = Number(o?.values[0]);
    if (mode !== "random" || o === undefined || !Number.isFinite(p) || p < 0 || p > 1) return 0;
    q = o.negated ? 1 - p : p;
    if (q <= 0 || q >= 1) return 0;
  }
  return q;
}
