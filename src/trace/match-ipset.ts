/**
 * `-m set --match-set NAME src|dst|src,dst` in the tracer: membership is read from the node's
 * `ipset save` (TraceOptions.ipsets, e.g. nodes/NODE/ipset-save.txt) with `evaluateSetMatch`, as
 * the kernel's xt_set does. Without that file, or when the set is not in it, the rule stays
 * undecided and the path says what to collect (`ipset-members`).
 */
import { evaluateSetMatch } from "../ipset/evaluate-set-match.ts";
import type { Match } from "../model/ruleset.ts";
import type { MissingEvidence } from "../model/trace-step.ts";
import { type MatchTest, undecided } from "./match-test.ts";

/** What an undecided set match lacks: the set's members, a field the packet does not carry, or a person. */
function needsOf(reason: string, missingSet: string | undefined): MissingEvidence {
  if (missingSet !== undefined) return "ipset-members";
  if (reason.includes("source port is not known")) return "source-port";
  if (reason.includes("in-interface is not known")) return "in-interface";
  if (reason.includes("out-interface is not known")) return "out-interface";
  if (reason.includes("traffic counters")) return "packet-counters";
  return "manual-check";
}

/** The test of one `-m set` match: true/false from the node's ipsets, or undecided with what is missing. */
export function compileSetMatch(m: Match): MatchTest {
  return (st, ctx) => {
    const r = evaluateSetMatch(ctx.ipsets, m, st);
    if (typeof r.value === "boolean") return r.value;
    return undecided(`ipset membership: ${r.value}`, needsOf(r.value, r.missingSet));
  };
}
