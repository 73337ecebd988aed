import { iptablesVersionOf } from "../known-bugs/iptables-version.ts";
import { KNOWN_BUGS, knownBugIds } from "../known-bugs/known-bugs.ts";
import type { NodeEvidence } from "../known-bugs/node-evidence.ts";
import type { PortCheck } from "../kube-proxy/reconcile-node.ts";
import type { Backend, TableName } from "../model/ruleset.ts";
import { TABLE_NAMES } from "../model/ruleset.ts";
import { RULE_OWNERS, type RuleOwner } from "../scan/rule-owner.ts";

/**
 * The values of one node's netdoctor metrics, computed once per sample so that a scrape only
 * serializes them. Every label set is drawn from a closed list (tables, owners, catalogue ids,
 * a parsed version), so the metrics' cardinality does not depend on the dump.
 */
export interface NodeMetricValues {
  /** `-A` lines per table; every table of {@linkcode TABLE_NAMES}, 0 when absent. */
  readonly rules: Readonly<Record<TableName, number>>;
  readonly chains: Readonly<Record<TableName, number>>;
  /** Extra copies of exact duplicate rules per owner; every owner of {@linkcode RULE_OWNERS}. */
  readonly duplicates: Readonly<Record<RuleOwner, number>>;
  /** `1.8.9`-style version, or `unknown`; never free text from the node. */
  readonly version: string;
  readonly backend: Backend;
  /** Rules live in both the legacy and the nf_tables backend. */
  readonly mixedBackends: boolean;
  /** Every catalogue id, true when its entry matches. */
  readonly knownBugs: Readonly<Record<string, boolean>>;
}

/** Ids of the catalogue entries, the closed label set of `netdoctor_iptables_known_bug{id}`. */
export const KNOWN_BUG_IDS: readonly string[] = KNOWN_BUGS.map((b) => b.id);

/** Catalogue ids that mean "rules in both backends" (the `iptables-mixed-backends` finding). */
const MIXED_IDS = new Set(KNOWN_BUGS.filter((b) => b.code === "iptables-mixed-backends").map((b) => b.id));

/**
 * Computes a node's metric values from its evidence (a successful `iptables-save` scan plus the
 * optional version, legacy and nft outputs).
 *
 * @example
 * ```ts
 * const values = nodeMetrics({ node: "w1", scan, iptablesVersion: { file: "iptables --version", text: "iptables v1.8.9 (nf_tables)" } });
 * values.rules.nat; // number of nat rules
 * ```
 */
export function nodeMetrics(evidence: NodeEvidence): NodeMetricValues {
  const rules = zeroTables();
  const chains = zeroTables();
  const duplicates = Object.fromEntries(RULE_OWNERS.map((o) => [o, 0])) as Record<RuleOwner, number>;
  const scan = evidence.scan;
  if (scan !== undefined) {
    for (const table of TABLE_NAMES) {
      rules[table] = scan.tables[table]?.rules ?? 0;
      chains[table] = scan.tables[table]?.chains ?? 0;
    }
    for (const owner of RULE_OWNERS) duplicates[owner] = scan.duplicates.byOwner[owner] ?? 0;
  }
  const v = iptablesVersionOf(evidence);
  const bugs = knownBugFlags(evidence);
  return {
    rules,
    chains,
    duplicates,
    version: v === undefined ? "unknown" : `${v.major}.${v.minor}.${v.patch}`,
    backend: v?.backend ?? scan?.header.backend ?? "unknown",
    mixedBackends: Object.entries(bugs).some(([id, hit]) => hit && MIXED_IDS.has(id)),
    knownBugs: bugs,
  };
}

/**
 * Every catalogue id with whether it matches. Also used after a failed save, where entries that
 * read the save's stderr (xtables lock, no nf_tables kernel) can still match.
 */
export function knownBugFlags(evidence: NodeEvidence): Record<string, boolean> {
  const hits = new Set(knownBugIds(evidence));
  return Object.fromEntries(KNOWN_BUG_IDS.map((id) => [id, hits.has(id)]));
}

function zeroTables(): Record<TableName, number> {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as Record<TableName, number>;
}

/** Service-rule counts of one node, for `netdoctor_service_rules_stale/missing`. */
export interface ServiceRuleCounts {
  /** Service ports whose rules send traffic to endpoints the API no longer lists, or reject it although it lists ready ones. */
  readonly stale: number;
  /** Service ports with ready endpoints but no entry rule, or with ready endpoints the rules lack. */
  readonly missing: number;
}

/**
 * Counts the Service ports of a reconciliation that are stale or missing on the node (each port
 * at most once per count; a port can be both).
 */
export function serviceRuleCounts(checks: Iterable<PortCheck>): ServiceRuleCounts {
  let stale = 0;
  let missing = 0;
  for (const c of checks) {
    const wanted = c.expected.length > 0;
    if (c.stale.length > 0 || (wanted && c.entry === undefined && c.reject !== undefined)) stale++;
    if (c.missing.length > 0 || (wanted && c.entry === undefined && c.reject === undefined)) missing++;
  }
  return { stale, missing };
}
