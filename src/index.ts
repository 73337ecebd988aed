/**
 * netdoctor as a library: `import { parseDump, tracePacket } from "netdoctor"`.
 *
 * The only barrel of the project: re-exports, nothing else. Everything here is pure (no I/O)
 * except {@linkcode diagnoseBundleDir}, which reads a bundle directory. docs/architecture.md says
 * where each part lives; README "Use as a library" has an example.
 */

// Diagnose: a bundle directory (reads files), or inputs already read (pure).
export { type DiagnoseDirOptions, diagnoseBundleDir } from "./collect/diagnose-bundle-dir.ts";
export { type DiagnoseOptions, diagnose } from "./diagnose/diagnose.ts";
export type { DiagnoseContext, DiagnoseQuestion, NodeInput } from "./diagnose/diagnosis-builder.ts";
export { QuestionError } from "./diagnose/question-error.ts";
// The findings catalogue.
export { type FindingDescription, findingCatalogue } from "./findings/finding-catalogue.ts";
// Plan the removal of duplicate rules (a plan a person applies; netdoctor never changes a node).
export { type DuplicatePlan, type PlanDuplicatesOptions, planDuplicates } from "./fix/plan-duplicates.ts";
// Scan dumps: counts, duplicates and their owners, outlier nodes.
// `scan`'s report with the duplicate advice chosen from each node's evidence (known-bugs/node-health.ts).
export { scanHealthReport as scanReport } from "./known-bugs/node-health.ts";
// The data model: rulesets, packets and traces, findings, diagnoses, cluster objects.
export type * from "./model/cluster.ts";
export type * from "./model/diagnosis.ts";
export type * from "./model/finding.ts";
export type * from "./model/ruleset.ts";
export type * from "./model/trace.ts";
// Parse an iptables-save dump.
export { DumpSyntaxError } from "./parse/dump-syntax-error.ts";
export { type ParseDumpOptions, type ParseDumpResult, parseDump, tryParseDump } from "./parse/parse-dump.ts";
export { type ScanDumpOptions, scanDump } from "./scan/scan-dump.ts";
export type { ScanReport } from "./scan/scan-dumps.ts";
export type { NodeScan } from "./scan/scan-node.ts";
export { addressText } from "./trace/address-text.ts";
export { ruleStepsOf } from "./trace/rule-steps.ts";
// Trace a packet through a node's rules.
export {
  buildTraceIndex,
  type TraceIndex,
  type TraceOptions,
  type TraceRequest,
  tracePacket,
} from "./trace/trace-packet.ts";
