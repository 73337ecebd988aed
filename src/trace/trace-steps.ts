/**
 * The trace steps of matched rules (the text users read: table, chain, line, rule, action), cached on
 * the compiled rule when they do not depend on the packet.
 */
import type { Rule } from "../model/ruleset.ts";
import type { TraceStep } from "../model/trace.ts";
import type { CompiledRule } from "./compile-rule.ts";
import type { CompiledTarget } from "./compile-target.ts";
import type { ChainInfo } from "./trace-index.ts";
import type { Outcome, Trail } from "./walk-context.ts";
import type { WalkState } from "./walk-state.ts";

/** A path that ends at `rule` because the tracer cannot decide it: the step says "cannot decide". */
export function unknownOutcome(
  info: ChainInfo,
  rule: Rule,
  reason: string,
  st: WalkState,
  p: number,
  trail: Trail | undefined,
): Outcome {
  const step: TraceStep = {
    table: info.table,
    chain: info.chain.name,
    line: rule.line,
    rule: rule.text,
    action: "cannot decide",
  };
  return {
    p,
    st,
    trail: { s: step, prev: trail },
    v: { k: "unknown", reason: `Cannot decide line ${rule.line}: ${reason}` },
    by: step,
  };
}

const probTexts = new Map<number, string>();

function fmtProb(q: number): string {
  let text = probTexts.get(q);
  if (text === undefined) {
    text = ` (random, p=${Number(q.toPrecision(6))})`;
    if (probTexts.size < 4096) probTexts.set(q, text);
  }
  return text;
}

/** The action text of a target that does not depend on the packet, or undefined. */
function staticAction(t: CompiledTarget): string | undefined {
  switch (t.kind) {
    case "none":
      return "match (no target)";
    case "continue":
      return `${t.name} (continue)`;
    case "mark":
      return `MARK ${t.text.trim()}`;
    case "connmark":
      return `CONNMARK ${t.text}`;
    case "notrack":
      return "NOTRACK: the connection is not tracked, nat is skipped";
    case "accept":
      return "ACCEPT";
    case "drop":
      return "DROP";
    case "reject":
      return `REJECT --reject-with ${t.rejectWith}`;
    case "return":
      return "RETURN";
    case "dnat":
      return t.range === undefined ? undefined : `DNAT to ${t.range.text}`;
    case "snat":
      return `SNAT to ${t.range.text}`;
    case "masquerade":
      return "MASQUERADE (source becomes the out-interface's address)";
    case "chain":
      return `${t.goto ? "goto" : "jump"} ${t.name}`;
    case "redirect":
    case "unknown":
      return undefined;
    default: {
      const never: never = t;
      throw new TypeError(`Unknown target kind ${JSON.stringify(never)}`);
    }
  }
}

/** The step of a matched rule; cached per rule when it does not depend on the packet. */
export function stepOf(
  info: ChainInfo,
  rule: Rule,
  c: CompiledRule,
  q: number | undefined,
  action?: string,
): TraceStep {
  if (action === undefined) {
    if (q === undefined) {
      if (c.step !== undefined) return c.step;
    } else if (c.qStep !== undefined && c.qStep.q === q) return c.qStep.step;
  }
  const text = action ?? staticAction(c.target) ?? "";
  const step: TraceStep = {
    table: info.table,
    chain: info.chain.name,
    line: rule.line,
    rule: rule.text,
    action: q === undefined ? text : text + fmtProb(q),
  };
  if (action === undefined) {
    if (q === undefined) c.step = step;
    // A statistic rule's matched branch has the same probability every time: keep its step too.
    else c.qStep = { q, step };
  }
  return step;
}

/** The steps of a trail, first to last. */
export function stepsOf(trail: Trail | undefined): TraceStep[] {
  const steps: TraceStep[] = [];
  for (let t = trail; t !== undefined; t = t.prev) steps.push(t.s);
  return steps.reverse();
}
