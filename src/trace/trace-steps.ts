/**
 * The typed steps of matched rules and chain policies (what users read: table, chain, evidence, rule,
 * action), cached on the compiled rule or chain when they do not depend on the packet.
 */
import type { Rule } from "../model/ruleset.ts";
import type { FilterAction, FilterStep, Step } from "../model/trace-step.ts";
import { type CompiledRule, memoOf } from "./compile-rule.ts";
import type { CompiledTarget } from "./compile-target.ts";
import type { Undecided } from "./match-test.ts";
import type { ChainInfo, TraceIndex } from "./trace-index.ts";
import { type Outcome, outcome, type Trail, type Verdict } from "./walk-context.ts";
import type { WalkState } from "./walk-state.ts";

/** A filter step of a rule (or chain declaration) of `info`'s chain. */
export function ruleFilterStep(
  index: TraceIndex,
  info: ChainInfo,
  at: {
    readonly line: number;
    readonly text: string;
    readonly action: FilterAction;
    readonly q?: number | undefined;
  },
): FilterStep {
  // Every field always present, in one order: one object layout for the walker and the renderers
  // (an undefined `probability` is left out of JSON).
  return {
    kind: "filter",
    backend: "iptables",
    table: info.table,
    chain: info.name,
    evidence: { file: index.file, line: at.line },
    rule: at.text,
    action: at.action,
    probability: at.q,
  };
}

/** A path that ends at `rule` because the tracer cannot decide it: the step says "cannot decide". */
export function unknownOutcome(
  index: TraceIndex,
  info: ChainInfo,
  rule: Rule,
  why: Undecided,
  path: { readonly st: WalkState; readonly p: number; readonly trail: Trail | undefined },
): Outcome {
  const step = ruleFilterStep(index, info, {
    line: rule.line,
    text: rule.text,
    action: { kind: "cannot-decide", reason: why.reason, needs: why.needs },
  });
  const v: Verdict = {
    k: "unknown",
    why: { reason: `Cannot decide line ${rule.line}: ${why.reason}`, needs: why.needs },
  };
  return outcome(path.p, path.st, { s: step, prev: path.trail }, v, step);
}

/** The filter action of a target that does not rewrite addresses; undefined for NAT and unknown targets. */
export function filterAction(t: CompiledTarget): FilterAction | undefined {
  switch (t.kind) {
    case "none":
      return { kind: "count" };
    case "continue":
      return { kind: "continue", target: t.name };
    case "mark":
      return { kind: "mark", op: t.op, value: t.value };
    case "connmark":
      return { kind: "connmark", options: t.options };
    case "notrack":
      return { kind: "notrack" };
    case "accept":
      return { kind: "accept" };
    case "drop":
      return { kind: "drop" };
    case "reject":
      return { kind: "reject", rejectWith: t.rejectWith };
    case "return":
      return { kind: "return" };
    case "chain":
      return { kind: t.goto ? "goto" : "jump", target: t.name };
    case "dnat":
    case "snat":
    case "masquerade":
    case "redirect":
    case "unknown":
      return undefined;
    default: {
      const never: never = t;
      throw new TypeError(`Unknown target kind ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The filter step of a matched rule whose target is not NAT; cached per rule (and, for the matched
 * branch of a statistic rule, per probability: it is the same every time).
 */
export function stepOf(
  index: TraceIndex,
  info: ChainInfo,
  c: CompiledRule,
  q: number | undefined,
): FilterStep {
  const memo = c.memo;
  if (memo !== undefined) {
    const cached = q === undefined ? memo.step : memo.qStep;
    if (cached !== undefined && cached.probability === q) return cached;
  }
  return newStep(index, info, c, q);
}

/** The filter step of a rule that matches for the first time (or with another branch probability). */
function newStep(index: TraceIndex, info: ChainInfo, c: CompiledRule, q: number | undefined): FilterStep {
  const action = filterAction(c.target);
  if (action === undefined) throw new TypeError(`Cannot make a filter step of a ${c.target.kind} target`);
  const step = ruleFilterStep(index, info, { line: c.rule.line, text: c.rule.text, action, q });
  const memo = memoOf(c);
  if (q === undefined) memo.step = step;
  else memo.qStep = step;
  return step;
}

/** The step of a built-in chain's policy, built once per chain. */
export function policyStep(index: TraceIndex, info: ChainInfo): FilterStep {
  let step = info.policyStep;
  if (step === undefined) {
    const c = info.chain;
    const policy = c.policy ?? "ACCEPT";
    step = ruleFilterStep(index, info, {
      line: c.line,
      text: `:${c.name} ${policy} [${c.counters.packets}:${c.counters.bytes}]`,
      action: { kind: "policy", policy },
    });
    info.policyStep = step;
  }
  return step;
}

/** The steps of a trail, first to last (sized once, filled from the end: no growing, no reversing). */
export function stepsOf(trail: Trail | undefined): Step[] {
  let n = 0;
  for (let t = trail; t !== undefined; t = t.prev) n++;
  const steps = new Array<Step>(n);
  for (let t = trail; t !== undefined; t = t.prev) steps[--n] = t.s;
  return steps;
}
