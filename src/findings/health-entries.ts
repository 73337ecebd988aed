/** Catalogue entries of node health: duplicates, outliers, known bugs, unreadable rules. */
import type { Severity } from "../model/finding.ts";
import { counted, type FindingEntry } from "./finding-entry.ts";

/** Extra copies at or above which duplicates are an error rather than a warning. */
export const DUPLICATE_ERROR_THRESHOLD = 100;

/**
 * Why a node's copies are there, as far as its evidence tells (src/known-bugs/duplicate-cause.ts
 * decides): a known bug whose signature matches, a static ruleset (no copy is a component's), or
 * components' copies no known bug explains.
 */
export type DuplicateCause =
  | {
      readonly kind: "known-bug";
      readonly bug: {
        readonly id: string;
        readonly title: string;
        /** What the detector saw, e.g. `iptables 1.8.2 (nf_tables) on node "a1" and 50 leaked duplicate rules (kube-router 50)`. */
        readonly detail: string;
        /** What stops new copies, for this node's distribution and role (without the removal). */
        readonly cure: string;
        readonly references: readonly string[];
      };
    }
  | {
      readonly kind: "static";
      /** The node's iptables when it is older than 1.4.11 (no `-C`), e.g. `iptables 1.4.8 (legacy)`. */
      readonly noCheck?: string;
    }
  | {
      readonly kind: "unexplained";
      /** e.g. `iptables 1.8.9 (nf_tables)`; undefined when neither the dump nor `iptables --version` tells. */
      readonly version?: string;
      /** The components whose copies they are, e.g. `kube-router's network-policy controller`. */
      readonly writers: string;
      /** Where the writers get their iptables from on this node (from its distribution). */
      readonly whichIptables: string;
    };

export interface RulesDuplicatedValues {
  readonly node: string;
  readonly extraRules: number;
  readonly rules: number;
  readonly groups: number;
  /** Extra copies per owner, largest first, e.g. `kube-router 1200, flannel 840`. */
  readonly owners: string;
  /** Extra copies of rules a Kubernetes or container component owns (not `other`). */
  readonly managedExtra: number;
  readonly largest: { readonly count: number; readonly table: string; readonly chain: string };
  readonly cause: DuplicateCause;
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

const REMOVE = "`netdoctor fix duplicates --dump FILE` writes a safe plan";

/** The last step of every leak fix: remove the copies once their cause is gone. */
export const REMOVE_COPIES = `then remove the copies (${REMOVE}); without the first step they grow back`;

/** Versions with a broken `iptables -C`, for a node whose version is not known. */
const CHECK_BUG_VERSIONS =
  "1.8.0-1.8.4 on nf_tables, 1.8.7, 1.8.10, ip6tables 1.8.9, and anything before 1.4.11";

function duplicatedFix(v: RulesDuplicatedValues): string {
  const c = v.cause;
  switch (c.kind) {
    case "known-bug":
      return `The copies match a known bug, ${c.bug.title} [${c.bug.id}]: ${c.bug.cure}; ${REMOVE_COPIES}`;
    case "static":
      return (
        "No Kubernetes or container component owns these rules: the node's own firewall configuration (a script or saved rules file) adds them twice. " +
        "Only the first copy of a rule that ends the packet's path (ACCEPT, DROP, REJECT, RETURN) ever matches; remove the extra lines where the ruleset is written" +
        (c.noCheck === undefined
          ? ""
          : ` (${c.noCheck} has no \`iptables -C\`, which came in 1.4.11, so a script that checks before adding appends again on every run)`) +
        `. ${REMOVE}`
      );
    case "unexplained":
      return (
        `No known iptables bug matches ${c.version === undefined ? "(the dump shows no iptables version)" : c.version}. ` +
        `The copies belong to ${c.writers}, which add a rule only when \`iptables -C\` says it is missing: a copy means that check failed. ` +
        (c.version === undefined
          ? `Collect \`iptables --version\` from the node (\`netdoctor collect\` does) and compare it with the versions whose check is broken: ${CHECK_BUG_VERSIONS}. `
          : `The writers may run another iptables than the one that saved this dump: ${c.whichIptables}. `) +
        `Take a second dump a few syncs later: a growing count is a leak, a steady one a one-off double add. Then remove the copies: ${REMOVE}`
      );
    default: {
      const never: never = c;
      throw new TypeError(`Unknown duplicate cause ${JSON.stringify(never)}`);
    }
  }
}

export const RULES_DUPLICATED: FindingEntry<RulesDuplicatedValues> = {
  code: "rules-duplicated",
  severity: {
    rule: `error at ${DUPLICATE_ERROR_THRESHOLD} extra copies of components' rules or more; warning below, and for a static ruleset's copies`,
    of: (v) => (v.managedExtra >= DUPLICATE_ERROR_THRESHOLD ? "error" : "warning"),
  },
  title: "Duplicate rules",
  explanation:
    "Exact copies of a rule (same table, chain, text) on a node. No Kubernetes component writes a rule twice on purpose: copies of their rules are leaked, typically by a broken `iptables -C` that makes a controller append on every sync; the fix names the known bug when the node's iptables version and the owners of the copies match one. Copies in a static ruleset (rules no component owns) are redundant lines, not a leak.",
  message: (v) => {
    const pct = v.rules === 0 ? 0 : Math.round((v.extraRules / v.rules) * 1000) / 10;
    const where =
      v.managedExtra === 0
        ? ", none of them a Kubernetes or container component's (a static ruleset)"
        : ` (${v.owners})`;
    return (
      `Node "${v.node}" has ${counted(v.extraRules, "duplicate rule")} (${pct}% of ${v.rules}) in ${counted(v.groups, "group")}${where}; ` +
      `the largest group is ${v.largest.count} copies of one rule in ${v.largest.table}/${v.largest.chain}`
    );
  },
  fix: duplicatedFix,
  // Only a matched bug's: a bug that may not apply is never cited (the fix lists the versions to check).
  references: (v) => (v.cause.kind === "known-bug" ? v.cause.bug.references : []),
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
  // No bug is cited: an excess is the leak's symptom, and rules-duplicated names the cause it matches.
  references: [],
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

export const MIXED_IPTABLES_BACKENDS: FindingEntry<KnownBugValues> = {
  code: "mixed-iptables-backends",
  severity: "warning",
  title: "Kubernetes chains in both iptables backends",
  explanation:
    "kube-proxy's or kube-router's chains exist in the legacy and in the nf_tables backend. The kernel runs both rule sets on every packet; the set no component writes any more keeps stale Service and policy rules (the usual leftover of an iptables backend switch). Both files are cited. (iptables-mixed-backends is the milder case: other tables in the second backend.)",
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
  references: (v) => ("bug" in v ? v.bug.references : ["kubernetes/kubernetes#121726"]),
};
