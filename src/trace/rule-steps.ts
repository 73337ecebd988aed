/** The steps of a trace that point at a rule of a dump (filter and transform steps), in order. */
import type { RuleStep, Trace, TraceResult } from "../model/trace.ts";

/**
 * The rule steps of one trace, every hop in order.
 *
 * @example
 * ```ts
 * ruleStepsOf(result.traces[0]).map((s) => s.evidence.line); // [52, 76, 83, 67, ...]
 * ```
 */
export function ruleStepsOf(trace: Trace): RuleStep[] {
  const out: RuleStep[] = [];
  for (const hop of trace.hops) {
    for (const s of hop.steps) if (s.kind === "filter" || s.kind === "transform") out.push(s);
  }
  return out;
}

/** The dump lines of every rule step of every trace of a result (with repeats). */
export function ruleLinesOf(result: TraceResult): number[] {
  return result.traces.flatMap((t) => ruleStepsOf(t).map((s) => s.evidence.line));
}
