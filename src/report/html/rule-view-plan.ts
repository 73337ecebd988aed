/**
 * Which nodes' rules the HTML report shows, and which of their lines it marks: the client node's
 * traced lines, every node's lines that findings cite, and (to compare Service chains) a few
 * readable peers. Pure: the caller reads the dumps the plan names.
 */
import type { Diagnosis } from "../../model/diagnosis.ts";
import { ruleLinesOf } from "../../trace/rule-steps.ts";
import type { NodeRuleViewOptions } from "./select-rule-view.ts";

/** Nodes without traced or cited lines whose Service chains are shown for comparison. */
export const MAX_COMPARISON_NODES = 2;

/**
 * One {@linkcode NodeRuleViewOptions} per node whose dump the report should read, in the
 * diagnosis's node order. Parsing a dump costs time: only nodes with lines to show, plus up to
 * `maxComparisons` peers when the question names a ClusterIP.
 */
export function ruleViewPlan(
  diagnosis: Diagnosis,
  options: { readonly maxComparisons?: number } = {},
): NodeRuleViewOptions[] {
  const max = options.maxComparisons ?? MAX_COMPARISON_NODES;
  const q = diagnosis.question;
  const plan: NodeRuleViewOptions[] = [];
  let comparisons = 0;
  for (const node of diagnosis.nodes) {
    if (!node.readable) continue;
    const traceLines =
      node.node === q?.clientNode ? (diagnosis.trace === undefined ? [] : ruleLinesOf(diagnosis.trace)) : [];
    const evidenceLines = diagnosis.findings.flatMap((f) =>
      f.evidence.flatMap((ev) => (ev.file === node.file && ev.line !== undefined ? [ev.line] : [])),
    );
    if (traceLines.length === 0 && evidenceLines.length === 0) {
      if (q?.clusterIp === undefined || comparisons >= max) continue;
      comparisons++;
    }
    plan.push({
      node: node.node,
      file: node.file,
      traceLines,
      evidenceLines,
      ...(q?.clusterIp === undefined ? {} : { serviceIp: q.clusterIp }),
      ...(q?.port === undefined ? {} : { port: q.port }),
    });
  }
  return plan;
}
