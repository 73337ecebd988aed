import type { DuplicateCause } from "../findings/health-entries.ts";
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

/** Turns per-node scans into the scan report with its findings. */
export function scanReport(nodes: readonly NodeScan[], options: ScanReportOptions): ScanReport {
  const findings = [
    ...nodes.flatMap((n) => duplicateFindings(n, { cause: options.causeOf(n) })),
    ...outlierFindings(nodes),
  ];
  return { nodes, findings };
}
