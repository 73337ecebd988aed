/**
 * A rule compiled for the tracer: its tests in kernel order (IP header fields first, then the
 * `-m` matches as written) and its target in a form the walker can apply. Compiled once per rule
 * and cached, so repeated traces on one ruleset cost only the tests.
 */
import type { Match, Rule, RuleSpec } from "../model/ruleset.ts";
import type { TraceStep } from "../model/trace.ts";
import { parseRule } from "../parse/parse-rule.ts";
import { compileHeader, NO_HEADER } from "./compile-header.ts";
import {
  compileMatch,
  compileProtoMatch,
  type MatchTest,
  PROTOCOL_NUMBERS,
  parsePortRange,
} from "./compile-match.ts";
import { type CompiledTarget, compileTarget } from "./compile-target.ts";
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
  readonly tests: readonly MatchTest[];
  readonly target: CompiledTarget;
  /** The rule itself (its line and text are read only for the steps). */
  readonly rule: Rule;
  /** The rule's trace step when its action does not depend on the packet (filled by the tracer). */
  step?: TraceStep;
  /** The step of the matched branch of a statistic rule, with its probability (filled by the tracer). */
  qStep?: { readonly q: number; readonly step: TraceStep };
  /** The chain a jump/goto goes to, resolved on first use (filled by the tracer). */
  targetChain?: ChainInfo;
}

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
    return { ...NO_HEADER, tests: [() => reason], target: { kind: "unknown", reason }, rule };
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
  return {
    prob,
    dplo: port.lo,
    dphi: port.hi,
    dpn: port.neg,
    sm: header.sm,
    sb: header.sb,
    sn: header.sn,
    dm: header.dm,
    db: header.db,
    dn: header.dn,
    pr: header.pr,
    pn: header.pn,
    tests: prob > 0 ? [] : tests,
    target: compileTarget(spec.target, isChain),
    rule,
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
