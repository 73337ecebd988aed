import type { Finding } from "../model/finding.ts";
import type { NodeScan } from "./scan-node.ts";

/** Extra copies at or above which duplicates are an error rather than a warning. */
export const DUPLICATE_ERROR_THRESHOLD = 100;
/** A node is an outlier when it has this many times the rules of its peers' median... */
export const OUTLIER_RATIO = 5;
/** ...and at least this many more rules (small clusters differ by a few rules legitimately). */
export const OUTLIER_MIN_EXCESS = 1000;

const K3S_3117 = "k3s-io/k3s#3117";

/**
 * `rules-duplicated`: exact copies of a rule in the same table and chain. kube-proxy and the
 * CNI plugins never write a rule twice on purpose, so copies are leaked rules.
 */
export function duplicateFindings(scan: NodeScan): Finding[] {
  const { extraRules, groups } = scan.duplicates;
  if (extraRules === 0) return [];
  const top = groups.slice(0, 3);
  const owners = Object.entries(scan.duplicates.byOwner)
    .sort((a, b) => b[1] - a[1])
    .map(([o, n]) => `${o} ${n}`)
    .join(", ");
  const pct = scan.rules === 0 ? 0 : Math.round((extraRules / scan.rules) * 1000) / 10;
  return [
    {
      code: "rules-duplicated",
      severity: extraRules >= DUPLICATE_ERROR_THRESHOLD ? "error" : "warning",
      node: scan.node,
      message:
        `Node "${scan.node}" has ${extraRules} duplicate rules (${pct}% of ${scan.rules}) in ${groups.length} groups (${owners}); ` +
        `the largest group is ${top[0]!.count} copies of one rule in ${top[0]!.table}/${top[0]!.chain}`,
      evidence: top.flatMap((g) => g.lines.slice(0, 2).map((line) => ({ file: scan.file, line, text: g.rule }))),
      fix:
        "Find what keeps re-adding the rules (on k3s with iptables 1.8.0-1.8.4 on nf_tables: upgrade iptables, or k3s >= v1.23.15 " +
        "with --prefer-bundled-bin), then remove the copies: `netdoctor fix duplicates --dump FILE` writes a safe plan",
      references: [K3S_3117],
    },
  ];
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * `rules-outlier`: a node whose rule count is far above its peers' median. Every node of a
 * cluster runs the same kube-proxy over the same Services, so their counts should be close.
 */
export function outlierFindings(scans: readonly NodeScan[]): Finding[] {
  if (scans.length < 2) return [];
  const findings: Finding[] = [];
  for (const scan of scans) {
    const peers = scans.filter((s) => s !== scan).map((s) => s.rules);
    const peerMedian = median(peers);
    const excess = scan.rules - peerMedian;
    if (excess < OUTLIER_MIN_EXCESS || scan.rules < OUTLIER_RATIO * Math.max(peerMedian, 1)) continue;
    const ratio = peerMedian === 0 ? "infinitely many" : `${Math.round(scan.rules / peerMedian)}x`;
    findings.push({
      code: "rules-outlier",
      severity: "error",
      node: scan.node,
      message: `Node "${scan.node}" has ${scan.rules} rules, ${ratio} the median of its ${peers.length} peers (${peerMedian})`,
      evidence: [{ file: scan.file, text: `${scan.rules} rules (-A lines); peers: ${scans.filter((s) => s !== scan).map((s) => `${s.node}=${s.rules}`).slice(0, 10).join(", ")}` }],
      fix: "Compare this node's dump with a healthy peer's; a steady excess is usually leaked duplicate rules (see rules-duplicated)",
      references: [K3S_3117],
    });
  }
  return findings;
}
