import type { Finding } from "../model/finding.ts";
import { duplicateFindings, outlierFindings } from "./scan-findings.ts";
import type { NodeScan } from "./scan-node.ts";

/** The result of `netdoctor scan` (its JSON contract). */
export interface ScanReport {
  readonly nodes: readonly NodeScan[];
  readonly findings: readonly Finding[];
}

/** Turns per-node scans into the scan report with its findings. */
export function scanReport(nodes: readonly NodeScan[]): ScanReport {
  const findings = [...nodes.flatMap(duplicateFindings), ...outlierFindings(nodes)];
  return { nodes, findings };
}
