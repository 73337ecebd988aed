/**
 * Known bugs whose symptom is leaked copies: a controller checks with `iptables -C` and appends when
 * the check says the rule is missing, so a broken check appends a copy on every sync. Each entry is
 * the check-then-add mechanism with the iptables versions whose check is broken. Facts from
 * shared/reference/iptables-known-bugs.md (KB numbers) and, for iptables before 1.4.11, the
 * kubernetes/kubernetes threads cited in the entry.
 */
import { counted } from "../findings/finding-entry.ts";
import { type BugContext, iptablesUpgrade, REMOVE_COPIES } from "./bug-context.ts";
import { type IptablesVersion, versionInRange } from "./iptables-version.ts";
import type { Detection, KnownBug } from "./known-bug.ts";
import type { CopyGroup, LeakFacts } from "./leak-facts.ts";
import {
  extraCopies,
  groupEvidence,
  isManaged,
  leakFactsOf,
  versionEvidence,
  versionText,
} from "./leak-facts.ts";

/** What a leak bug's detector requires. */
interface LeakSignature {
  /** Inclusive version range, `1.8.0`-style. */
  readonly from: string;
  readonly to: string;
  readonly backend?: "nf_tables";
  /** Only `ip6tables-save` dumps. */
  readonly ip6?: boolean;
  /** Which groups belong to this bug (default: every group a component owns). */
  readonly groups?: (g: CopyGroup, version: IptablesVersion) => boolean;
}

function ownerCounts(groups: readonly CopyGroup[]): string {
  const by = new Map<string, number>();
  for (const g of groups) by.set(g.owner, (by.get(g.owner) ?? 0) + g.count - 1);
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .map(([o, n]) => `${o} ${n}`)
    .join(", ");
}

/**
 * A detector for leaked copies under an iptables in [from, to]. One extra copy is enough: the
 * components that own these rules never write a second copy while their check works, and with a
 * version whose check is known broken the count only says how long ago they started
 * (BlueKrypto/k3os#15: "If the count for each rule is greater than 1, then this bug is affecting you").
 */
export function leakDetector(sig: LeakSignature): (f: LeakFacts) => Detection | undefined {
  return (f) => {
    const v = f.version;
    if (v === undefined || !versionInRange(v, sig.from, sig.to)) return undefined;
    if (sig.backend !== undefined && v.backend !== sig.backend) return undefined;
    if (sig.ip6 === true && !f.ip6) return undefined;
    const groups = f.groups.filter((g) => isManaged(g.owner) && (sig.groups?.(g, v) ?? true));
    const extra = extraCopies(groups);
    if (extra === 0) return undefined;
    return {
      message: `${versionText(v)}${f.ip6 ? " (ip6tables)" : ""} on node "${f.node}" and ${counted(extra, "leaked duplicate rule")} (${ownerCounts(groups)})`,
      evidence: [versionEvidence(v), ...groupEvidence(f.file, groups)],
    };
  };
}

const KUBE_FIREWALL_DROP = "kubernetes firewall for dropping marked packets";

function isFirewallDrop(g: CopyGroup): boolean {
  return g.chain === "KUBE-FIREWALL" && g.rule.includes(KUBE_FIREWALL_DROP);
}

/** The copies KB-02 explains better: kubelet's KUBE-FIREWALL rule under iptables-nft 1.8.1-1.8.2. */
function claimedBySpam(g: CopyGroup, v: IptablesVersion): boolean {
  return isFirewallDrop(g) && versionInRange(v, "1.8.1", "1.8.2") && v.backend === "nf_tables";
}

type LeakEntry = Omit<KnownBug, "code" | "severity" | "detect" | "leak" | "fix" | "cure"> & {
  readonly leak: NonNullable<KnownBug["leak"]>;
  readonly cure: string | ((ctx: BugContext) => string);
};

/**
 * A leak entry: an error whose `detect` runs its leak detector on the node's scan, and whose fix is
 * its cure followed by the removal of the copies.
 */
function leakBug(entry: LeakEntry): KnownBug {
  const cure = (ctx: BugContext) => (typeof entry.cure === "string" ? entry.cure : entry.cure(ctx));
  return {
    code: "iptables-known-bug",
    severity: "error",
    ...entry,
    cure,
    fix: (ctx) => `${cure(ctx)}; ${REMOVE_COPIES}`,
    detect: (e) => {
      const facts = leakFactsOf(e);
      return facts === undefined ? undefined : entry.leak(facts);
    },
  };
}

/** In the order a cause is looked for: the most specific signature first. */
export const LEAK_BUGS: readonly KnownBug[] = [
  leakBug({
    id: "iptables-no-check",
    title: "iptables before 1.4.11 has no `iptables -C`: rules re-added on every sync",
    affected:
      "iptables older than 1.4.11 (CentOS/RHEL/Scientific Linux 6 ship 1.4.7); Kubernetes components fall back to comparing iptables-save output, and any difference in how it prints the rule fails the check",
    // k3s and image-based kube-proxy came years later: the writer is the host's own iptables.
    cure:
      "Upgrade the node's iptables to 1.4.11 or later (CentOS/RHEL 7 ship 1.4.21), which means upgrading the OS on CentOS/RHEL 6: " +
      "the components' fallback compares iptables-save output and misses whenever iptables prints a rule differently from how it was written " +
      "(argument order, 0x4000 printed as 0x00004000: kubernetes/kubernetes PR #37594)",
    references: [
      "kubernetes/kubernetes#14870",
      "kubernetes/kubernetes PR #12839",
      "kubernetes/kubernetes PR #2067",
      "kubernetes/kubernetes#37416",
      "kubernetes/kubernetes PR #37594",
    ],
    leak: leakDetector({ from: "0.0.0", to: "1.4.10" }),
  }),
  leakBug({
    id: "kube-firewall-spam",
    kb: "KB-02",
    title: "kubelet's KUBE-FIREWALL drop rule appended on every sync (iptables-nft 1.8.1-1.8.2)",
    affected: "iptables 1.8.1-1.8.2 with the nf_tables backend",
    cure: (ctx) =>
      `${iptablesUpgrade(ctx, "1.8.3 or later")} (since Kubernetes 1.28 kubelet no longer writes this rule, KEP-3178)`,
    references: ["kubernetes/kubernetes#82361", "kubernetes/kubernetes#79304"],
    leak: leakDetector({ from: "1.8.1", to: "1.8.2", backend: "nf_tables", groups: isFirewallDrop }),
  }),
  leakBug({
    id: "k3s-3117",
    kb: "KB-01",
    title: "Duplicate rules accumulate: `iptables -C` is broken in iptables 1.8.0-1.8.4 on nf_tables",
    affected:
      "iptables 1.8.0-1.8.4 with the nf_tables backend (Debian 10's 1.8.2, RHEL/CentOS 8's 1.8.4); k3s before v1.23.15/v1.24.9/v1.25.5/v1.26.0 cannot avoid the host binary",
    cure: (ctx) => `${iptablesUpgrade(ctx, "1.8.5 or later (not 1.8.7 or 1.8.10)")}`,
    references: ["k3s-io/k3s#3117", "k3s-io/k3s PR #6545", "https://docs.k3s.io/known-issues#iptables"],
    leak: leakDetector({
      from: "1.8.0",
      to: "1.8.4",
      backend: "nf_tables",
      groups: (g, v) => !claimedBySpam(g, v),
    }),
  }),
  leakBug({
    id: "iptables-1.8.7-check",
    kb: "KB-03",
    title: "`iptables -C` unreliable in iptables 1.8.7: rules re-added over and over",
    affected: "iptables 1.8.7",
    cure: (ctx) => `${iptablesUpgrade(ctx, "1.8.8 or later")}`,
    references: ["flatcar/Flatcar#954", "kubernetes/dns#568"],
    leak: leakDetector({ from: "1.8.7", to: "1.8.7" }),
  }),
  leakBug({
    id: "ip6tables-1.8.9-check",
    kb: "KB-04",
    title: "ip6tables rule check broken in iptables 1.8.9: IPv6 rules re-added over and over",
    affected: "ip6tables 1.8.9",
    cure: (ctx) =>
      `${iptablesUpgrade(ctx, "a build that deals with it (the distribution changes referenced below) or 1.8.11")}`,
    references: ["gentoo/gentoo PR #32541", "bottlerocket-os/bottlerocket PR #3001"],
    leak: leakDetector({ from: "1.8.9", to: "1.8.9", ip6: true }),
  }),
  leakBug({
    id: "iptables-1.8.10-check",
    kb: "KB-05",
    title: "`iptables -C` broken in iptables 1.8.10: kube-router rules duplicated",
    affected: "iptables 1.8.10 (fixed in 1.8.11; Alpine 3.19 and later images ship it)",
    cure: (ctx) => `${iptablesUpgrade(ctx, "1.8.11 (or back to 1.8.9)")}`,
    references: ["cloudnativelabs/kube-router#1676", "cloudnativelabs/kube-router#1789"],
    leak: leakDetector({ from: "1.8.10", to: "1.8.10" }),
  }),
];
