import type { DuplicateCause } from "../findings/health-entries.ts";
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import { duplicateFindings, outlierFindings } from "./scan-findings.ts";
import type { NodeScan } from "./scan-node.ts";

/** The result of `netdoctor scan` (its JSON contract). */
export interface ScanReport {
  readonly nodes: readonly NodeScan[];
  readonly findings: readonly Finding[];
}

/** Options of {@linkcode scanReport}. */
export interface ScanReportOptions {
  /** Why a node's copies are there (known-bugs/node-health.ts `scanHealthReport` supplies it). */
  readonly causeOf: (scan: NodeScan) => DuplicateCause;
}

/**
 * A dump read only as far as it goes (a paste cut short): its counts are partial, so the scan
 * cannot call the node healthy.
 */
function truncationFindings(scan: NodeScan): Finding[] {
  return scan.warnings
    .filter((w) => w.kind === "truncated")
    .map((w) =>
      makeFinding(
        "bundle-invalid",
        { problem: `Node "${scan.node}": ${w.reason.charAt(0).toLowerCase()}${w.reason.slice(1)}` },
        { node: scan.node, evidence: [{ file: scan.file, line: w.line, text: w.text }] },
      ),
    );
}

/** Turns per-node scans into the scan report with its findings. */
export function scanReport(nodes: readonly NodeScan[], options: ScanReportOptions): ScanReport {
  const findings = [
    ...nodes.flatMap(truncationFindings),
    ...nodes.flatMap((n) => duplicateFindings(n, { cause: options.causeOf(n) })),
    ...outlierFindings(nodes),
  ];
  return { nodes, findings };
}
