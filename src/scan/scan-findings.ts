import { DUPLICATE_ERROR_THRESHOLD, type DuplicateCause } from "../findings/health-entries.ts";
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import type { NodeScan } from "./scan-node.ts";

/** Extra copies at or above which duplicates are an error rather than a warning (the catalogue's rule). */
export { DUPLICATE_ERROR_THRESHOLD };
/** A node is an outlier when it has this many times the rules of its peers' median... */
export const OUTLIER_RATIO = 5;
/** ...and at least this many more rules (small clusters differ by a few rules legitimately). */
export const OUTLIER_MIN_EXCESS = 1000;

/** Options of {@linkcode duplicateFindings}. */
export interface DuplicateFindingsOptions {
  /**
   * Why the copies are there, from the node's evidence (known-bugs/duplicate-cause.ts): it picks
   * the advice, so a static firewall is never told about a k3s bug.
   */
  readonly cause: DuplicateCause;
}

/**
 * `rules-duplicated`: exact copies of a rule in the same table and chain. kube-proxy and the CNI
 * plugins never write a rule twice on purpose, so copies of their rules are leaked; copies of rules
 * no component owns are a static ruleset's redundancy (a warning, whatever their number).
 */
export function duplicateFindings(scan: NodeScan, options: DuplicateFindingsOptions): Finding[] {
  const { extraRules, groups } = scan.duplicates;
  if (extraRules === 0) return [];
  const top = groups.slice(0, 3);
  const byOwner = Object.entries(scan.duplicates.byOwner).sort((a, b) => b[1] - a[1]);
  const owners = byOwner.map(([o, n]) => `${o} ${n}`).join(", ");
  const managedExtra = byOwner.reduce((sum, [o, n]) => (o === "other" ? sum : sum + n), 0);
  return [
    makeFinding(
      "rules-duplicated",
      {
        node: scan.node,
        extraRules,
        rules: scan.rules,
        groups: groups.length,
        owners,
        managedExtra,
        largest: { count: top[0]!.count, table: top[0]!.table, chain: top[0]!.chain },
        cause: options.cause,
      },
      {
        node: scan.node,
        evidence: top.flatMap((g) =>
          g.lines.slice(0, 2).map((line) => ({ file: scan.file, line, text: g.rule })),
        ),
      },
    ),
  ];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** At this many times the peers' median a node is a `warning` outlier (with the spread check below). */
export const OUTLIER_WARNING_RATIO = 2;
/** How many robust standard deviations (1.4826 x MAD) of the peers a warning outlier must be above their median. */
export const OUTLIER_SPREAD = 5;
/** Peers needed before their spread (MAD) means anything. */
const MIN_PEERS_FOR_SPREAD = 3;

/**
 * Whether a node's rule count is an outlier among its peers', and how bad.
 *
 * Every node of a cluster runs the same kube-proxy over the same Services, so rule counts differ
 * only by node-local rules. Two tiers, both needing at least {@linkcode OUTLIER_MIN_EXCESS} more
 * rules than the peers' median (small clusters differ by a few rules legitimately):
 * - `error`: at least {@linkcode OUTLIER_RATIO} times the median (the k3s#3117 leak: 180,000 vs 250);
 * - `warning`: at least {@linkcode OUTLIER_WARNING_RATIO} times the median and more than
 *   {@linkcode OUTLIER_SPREAD} robust standard deviations above it, judged only with 3+ peers. The
 *   median absolute deviation is used because one leaking peer would inflate a plain standard
 *   deviation; this catches a 3x node in a 50,000-rule cluster that the 5x rule misses, without
 *   flagging clusters whose nodes legitimately vary a lot.
 *
 * @example
 * ```ts
 * ruleCountOutlier(180_000, [250, 260, 240]); // "error"
 * ruleCountOutlier(150_000, [50_000, 50_100, 49_900]); // "warning"
 * ```
 */
export function ruleCountOutlier(
  rules: number,
  peerRules: readonly number[],
): "error" | "warning" | undefined {
  if (peerRules.length === 0) return undefined;
  const med = median(peerRules);
  if (rules - med < OUTLIER_MIN_EXCESS) return undefined;
  if (rules >= OUTLIER_RATIO * Math.max(med, 1)) return "error";
  if (peerRules.length < MIN_PEERS_FOR_SPREAD || rules < OUTLIER_WARNING_RATIO * med) return undefined;
  const mad = median(peerRules.map((r) => Math.abs(r - med)));
  return rules - med > OUTLIER_SPREAD * 1.4826 * mad ? "warning" : undefined;
}

/**
 * `rules-outlier`: a node whose rule count is far above its peers' median (see
 * {@linkcode ruleCountOutlier} for the rule).
 */
export function outlierFindings(scans: readonly NodeScan[]): Finding[] {
  if (scans.length < 2) return [];
  const findings: Finding[] = [];
  for (const scan of scans) {
    const others = scans.filter((s) => s !== scan);
    const peers = others.map((s) => s.rules);
    const severity = ruleCountOutlier(scan.rules, peers);
    if (severity === undefined) continue;
    const peerMedian = median(peers);
    const ratio =
      peerMedian === 0 ? "infinitely many times" : `${Math.round((scan.rules / peerMedian) * 10) / 10}x`;
    const listed = others
      .slice(0, 10)
      .map((s) => `${s.node}=${s.rules}`)
      .join(", ");
    findings.push(
      makeFinding(
        "rules-outlier",
        {
          node: scan.node,
          rules: scan.rules,
          ratio,
          peers: peers.length,
          median: peerMedian,
          tier: severity === "error" ? "ratio" : "spread",
        },
        {
          node: scan.node,
          evidence: [
            {
              file: scan.file,
              text: `${scan.rules} rules (-A lines); peers: ${listed}${others.length > 10 ? `, ... (${others.length - 10} more)` : ""}`,
            },
          ],
        },
      ),
    );
  }
  return findings;
}
