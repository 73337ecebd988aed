/** Catalogue entries of node health: duplicates, outliers, known bugs, unreadable rules. */
import type { Severity } from "../model/finding.ts";
import { type FindingEntry, REF } from "./finding-entry.ts";

/** Extra copies at or above which duplicates are an error rather than a warning. */
export const DUPLICATE_ERROR_THRESHOLD = 100;

export interface RulesDuplicatedValues {
  readonly node: string;
  readonly extraRules: number;
  readonly rules: number;
  readonly groups: number;
  /** Extra copies per owner, largest first, e.g. `kube-router 1200, flannel 840`. */
  readonly owners: string;
  readonly largest: { readonly count: number; readonly table: string; readonly chain: string };
}

export interface RulesOutlierValues {
  readonly node: string;
  readonly rules: number;
  /** `9.2x` or `infinitely many times`. */
  readonly ratio: string;
  readonly peers: number;
  readonly median: number;
  /** `ratio`: 5x the peers' median; `spread`: 2x and 5 robust standard deviations above them. */
  readonly tier: "ratio" | "spread";
}

/** A matched entry of the known-bug catalogue (src/known-bugs/known-bugs-catalogue.ts) and what it saw. */
export interface KnownBugValues {
  readonly bug: {
    readonly id: string;
    readonly title: string;
    readonly severity: Severity;
    readonly affected: string;
    readonly fix: string;
    readonly references: readonly string[];
  };
  /** What the detector saw on this node. */
  readonly detail: string;
}

export type IptablesUnreadableValues =
  | KnownBugValues
  | {
      readonly node: string;
      /** `no iptables-save output was collected`, `iptables-save failed with exit code 4`. */
      readonly detail: string;
    };

function knownBugMessage(v: KnownBugValues): string {
  return `${v.bug.title} [${v.bug.id}]: ${v.detail}. Affected: ${v.bug.affected}`;
}

export const RULES_DUPLICATED: FindingEntry<RulesDuplicatedValues> = {
  code: "rules-duplicated",
  severity: {
    rule: `error at ${DUPLICATE_ERROR_THRESHOLD} extra copies or more, warning below`,
    of: (v) => (v.extraRules >= DUPLICATE_ERROR_THRESHOLD ? "error" : "warning"),
  },
  title: "Duplicate rules",
  explanation:
    "Exact copies of a rule (same table, chain, text) on a node. No Kubernetes component writes a rule twice on purpose: copies are leaked rules, typically k3s-io/k3s#3117 (a broken `iptables -C` makes controllers append on every sync).",
  message: (v) => {
    const pct = v.rules === 0 ? 0 : Math.round((v.extraRules / v.rules) * 1000) / 10;
    return (
      `Node "${v.node}" has ${v.extraRules} duplicate rules (${pct}% of ${v.rules}) in ${v.groups} groups (${v.owners}); ` +
      `the largest group is ${v.largest.count} copies of one rule in ${v.largest.table}/${v.largest.chain}`
    );
  },
  fix: () =>
    "Find what keeps re-adding the rules (on k3s with iptables 1.8.0-1.8.4 on nf_tables: upgrade iptables, or k3s >= v1.23.15 " +
    "with --prefer-bundled-bin), then remove the copies: `netdoctor fix duplicates --dump FILE` writes a safe plan",
  references: [REF.k3s3117],
};

export const RULES_OUTLIER: FindingEntry<RulesOutlierValues> = {
  code: "rules-outlier",
  severity: {
    rule: "error at 5x the peers' median; warning for the milder tier",
    of: (v) => (v.tier === "ratio" ? "error" : "warning"),
  },
  title: "Far more rules than the node's peers",
  explanation:
    "Every node runs the same kube-proxy over the same Services, so rule counts should be close; a node far above its peers' median has usually leaked rules.",
  message: (v) =>
    `Node "${v.node}" has ${v.rules} rules, ${v.ratio} the median of its ${v.peers} peers (${v.median})`,
  fix: () =>
    "Compare this node's dump with a healthy peer's; a steady excess is usually leaked duplicate rules (see rules-duplicated)",
  references: [REF.k3s3117],
};

export const IPTABLES_KNOWN_BUG: FindingEntry<KnownBugValues> = {
  code: "iptables-known-bug",
  severity: { rule: "error or warning, per catalogue entry", of: (v) => v.bug.severity },
  title: "A known iptables / k3s failure signature",
  explanation:
    "A known iptables / k3s failure signature matched this node's files (the known-bug catalogue in src/known-bugs/known-bugs-catalogue.ts: how each is detected, affected versions, fix, references).",
  message: knownBugMessage,
  fix: (v) => v.bug.fix,
  references: (v) => v.bug.references,
};

export const IPTABLES_MIXED_BACKENDS: FindingEntry<KnownBugValues> = {
  code: "iptables-mixed-backends",
  severity: "warning",
  title: "Rules in both iptables backends",
  explanation:
    "Rules exist in both the legacy and the nf_tables backend. The kernel evaluates both, and neither dump shows their relative order.",
  message: knownBugMessage,
  fix: (v) => v.bug.fix,
  references: (v) => v.bug.references,
};

export const IPTABLES_UNREADABLE: FindingEntry<IptablesUnreadableValues> = {
  code: "iptables-unreadable",
  severity: "error",
  title: "The node's rules could not be read",
  explanation:
    "The node's rules could not be read: iptables-save failed (its stderr is in iptables-save.err, the exit code in .exit), its output is missing, or it does not parse. Nothing about the node's data plane can be decided; the rest of the bundle is still diagnosed.",
  message: (v) =>
    "bug" in v
      ? knownBugMessage(v)
      : `Cannot judge node "${v.node}": ${v.detail}; its rules may be stale or broken and netdoctor cannot see them`,
  fix: (v) =>
    "bug" in v
      ? v.bug.fix
      : "Run `iptables-save` on the node by hand (with the iptables the node's k3s/kube-proxy uses) and read its stderr; a failing iptables on the node also stops kube-proxy from syncing",
  references: (v) => ("bug" in v ? v.bug.references : [REF.k3s3117, "kubernetes/kubernetes#121726"]),
};
