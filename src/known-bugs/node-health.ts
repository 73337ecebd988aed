/**
 * A node's health findings with advice chosen from its evidence: `rules-duplicated` with the cause
 * of its copies (duplicate-cause.ts), then the known bugs that match (known-bugs.ts).
 */
import type { Finding } from "../model/finding.ts";
import { type ScanReport, scanReport } from "../scan/scan-dumps.ts";
import { duplicateFindings } from "../scan/scan-findings.ts";
import type { NodeScan } from "../scan/scan-node.ts";
import { bugContext } from "./bug-context.ts";
import { duplicateCause } from "./duplicate-cause.ts";
import { detectKnownBugs, type KnownBugOptions } from "./known-bugs.ts";
import { leakFactsOf } from "./leak-facts.ts";
import type { NodeEvidence } from "./node-evidence.ts";

/**
 * `rules-duplicated` (when the node has copies) with the advice its evidence supports, then every
 * known bug that matches.
 *
 * @example
 * ```ts
 * nodeHealthFindings({ node: "agent1", scan, iptablesVersion }, { nodeKind: nodeKindOf(nodeObject) });
 * ```
 */
export function nodeHealthFindings(evidence: NodeEvidence, options: KnownBugOptions = {}): Finding[] {
  const facts = leakFactsOf(evidence);
  const duplicates =
    evidence.scan === undefined || facts === undefined
      ? []
      : duplicateFindings(evidence.scan, {
          cause: duplicateCause(facts, bugContext(options.nodeKind, evidence)),
        });
  return [...duplicates, ...detectKnownBugs(evidence, options)];
}

/** Options of {@linkcode scanHealthReport}. */
export interface ScanHealthOptions {
  /**
   * The node's version files besides its dump, when they exist (a bundle's `iptables-version.txt`
   * and `k3s-version.txt`): they beat the dump header's version and mark a k3s node.
   */
  readonly evidenceOf?: (node: string) => Pick<NodeEvidence, "iptablesVersion" | "k3sVersion"> | undefined;
}

/**
 * `netdoctor scan`'s report: per-node counts and duplicates, each node's copies explained from what
 * its evidence shows (the version in `iptables --version` or the dump header, the owners, a k3s
 * version file), and the outliers among the nodes.
 */
export function scanHealthReport(scans: readonly NodeScan[], options: ScanHealthOptions = {}): ScanReport {
  return scanReport(scans, {
    causeOf: (scan) => {
      // Without a Node object nothing but a k3s version file tells the node's distribution.
      const evidence: NodeEvidence = { node: scan.node, scan, ...options.evidenceOf?.(scan.node) };
      return duplicateCause(leakFactsOf(evidence)!, bugContext(undefined, evidence));
    },
  });
}
