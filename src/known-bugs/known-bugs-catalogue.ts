/**
 * The catalogue of known iptables / k3s failure signatures, kept as data: one entry each with how to
 * detect it from a node's evidence, the affected versions, the fix and public references. Facts come
 * from shared/reference/iptables-known-bugs.md; ids follow its KB numbering.
 */
import type { KnownBugCode } from "../findings/catalogue.ts";
import type { Evidence, Severity } from "../model/finding.ts";
import type { DuplicateGroup } from "../scan/scan-node.ts";
import { type IptablesVersion, iptablesVersionOf, versionInRange } from "./iptables-version.ts";
import type { NodeEvidence } from "./node-evidence.ts";

/** What a detector found: the sentence and the lines that prove it. */
export interface Detection {
  readonly message: string;
  readonly evidence: readonly Evidence[];
}

export interface KnownBug {
  /** Stable id used in findings and the `netdoctor_iptables_known_bug{id}` metric, e.g. `k3s-3117`. */
  readonly id: string;
  /** Number in the reference catalogue, e.g. `KB-01`. */
  readonly kb: string;
  readonly title: string;
  readonly code: KnownBugCode;
  readonly severity: Severity;
  readonly affected: string;
  readonly fix: string;
  readonly references: readonly string[];
  /** Undefined when the evidence does not show the bug (or cannot show it). */
  readonly detect: (evidence: NodeEvidence) => Detection | undefined;
}

/** Duplicate copies below this are noise a one-off double add can explain; above, a leak. */
const LEAK_MIN_EXTRA = 10;

function versionEvidence(v: IptablesVersion): Evidence {
  return v.line === undefined ? { file: v.file, text: v.text } : { file: v.file, line: v.line, text: v.text };
}

function groupEvidence(file: string, groups: readonly DuplicateGroup[], max = 3): Evidence[] {
  return groups.slice(0, max).map((g) => ({ file, line: g.lines[0]!, text: `${g.count}x ${g.rule}` }));
}

/** Duplicates on the node plus its version in [from, to] (and backend, when given). */
function duplicatesWithVersion(
  e: NodeEvidence,
  from: string,
  to: string,
  backend: "nf_tables" | undefined,
  filter: (g: DuplicateGroup) => boolean = () => true,
): Detection | undefined {
  const scan = e.scan;
  if (scan === undefined) return undefined;
  const groups = scan.duplicates.groups.filter(filter);
  const extra = groups.reduce((n, g) => n + g.count - 1, 0);
  if (extra < LEAK_MIN_EXTRA) return undefined;
  const v = iptablesVersionOf(e);
  if (v === undefined || !versionInRange(v, from, to)) return undefined;
  if (backend !== undefined && v.backend !== backend) return undefined;
  return {
    message: `iptables ${v.major}.${v.minor}.${v.patch} (${v.backend}) on node "${e.node}" and ${extra} leaked duplicate rules`,
    evidence: [versionEvidence(v), ...groupEvidence(scan.file, groups)],
  };
}

function stderrMatch(e: NodeEvidence, pattern: RegExp): Detection | undefined {
  const err = e.saveError;
  if (err === undefined) return undefined;
  const lines = err.text.split("\n");
  const idx = lines.findIndex((l) => pattern.test(l));
  if (idx < 0) return undefined;
  return {
    message: `iptables-save failed on node "${e.node}": ${lines[idx]!.trim()}`,
    evidence: [{ file: err.file, line: idx + 1, text: lines[idx]!.trim() }],
  };
}

function signature(e: NodeEvidence, ids: readonly string[], what: string): Detection | undefined {
  const hits = (e.signatures ?? []).filter((h) => ids.includes(h.id));
  if (hits.length === 0 || e.scan === undefined) return undefined;
  return {
    message: `Node "${e.node}" has ${what}`,
    evidence: hits.slice(0, 3).map((h) => ({ file: e.scan!.file, line: h.line, text: h.text })),
  };
}

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    id: "k3s-3117",
    kb: "KB-01",
    title: "Duplicate rules accumulate: `iptables -C` is broken in iptables 1.8.0-1.8.4 on nf_tables",
    code: "iptables-known-bug",
    severity: "error",
    affected:
      "iptables 1.8.0-1.8.4 with the nf_tables backend (Debian 10's 1.8.2, RHEL/CentOS 8's 1.8.4); k3s before v1.23.15/v1.24.9/v1.25.5/v1.26.0 cannot avoid the host binary",
    fix:
      "Start k3s with --prefer-bundled-bin (k3s >= v1.23.15, v1.24.9, v1.25.5, v1.26.0) or upgrade the host's iptables to 1.8.5+ " +
      "(avoid 1.8.7 and 1.8.10), then remove the copies with `netdoctor fix duplicates`; without the first step they grow back",
    references: ["k3s-io/k3s#3117", "k3s-io/k3s PR #6545", "https://docs.k3s.io/known-issues#iptables"],
    detect: (e) => duplicatesWithVersion(e, "1.8.0", "1.8.4", "nf_tables"),
  },
  {
    id: "kube-firewall-spam",
    kb: "KB-02",
    title: "kubelet's KUBE-FIREWALL drop rule appended on every sync (iptables-nft 1.8.1-1.8.2)",
    code: "iptables-known-bug",
    severity: "error",
    affected: "iptables 1.8.1-1.8.2 with the nf_tables backend",
    fix: "Upgrade iptables to 1.8.3 or later, then remove the copies",
    references: ["kubernetes/kubernetes#82361", "kubernetes/kubernetes#79304"],
    detect: (e) =>
      duplicatesWithVersion(e, "1.8.1", "1.8.2", "nf_tables", (g) =>
        g.rule.includes("kubernetes firewall for dropping marked packets"),
      ),
  },
  {
    id: "iptables-1.8.7-check",
    kb: "KB-03",
    title: "`iptables -C` unreliable in iptables 1.8.7: rules re-added over and over",
    code: "iptables-known-bug",
    severity: "error",
    affected: "iptables 1.8.7",
    fix: "Upgrade iptables to 1.8.8 or later, then remove the copies",
    references: ["flatcar/Flatcar#954", "kubernetes/dns#568"],
    detect: (e) => duplicatesWithVersion(e, "1.8.7", "1.8.7", undefined),
  },
  {
    id: "iptables-1.8.10-check",
    kb: "KB-05",
    title: "`iptables -C` broken in iptables 1.8.10: kube-router rules duplicated",
    code: "iptables-known-bug",
    severity: "error",
    affected: "iptables 1.8.10 (fixed in 1.8.11)",
    fix: "Use iptables 1.8.11 (or 1.8.9), then remove the copies",
    references: ["cloudnativelabs/kube-router#1676", "cloudnativelabs/kube-router#1789"],
    detect: (e) => duplicatesWithVersion(e, "1.8.10", "1.8.10", undefined),
  },
  {
    id: "mixed-backends",
    kb: "KB-07",
    title: "Rules in both iptables-legacy and iptables-nft",
    code: "iptables-mixed-backends",
    severity: "warning",
    affected: "any host with both backends; worst with iptables 1.8.0-1.8.2",
    fix:
      "Find which component writes to the other backend (compare iptables-legacy-save and iptables-nft-save) and make every " +
      "component use the backend kube-proxy uses; the kernel evaluates both rule sets and neither dump shows their order",
    references: [
      "kubernetes/kubernetes#71305",
      "kubernetes/kubernetes#107965",
      "kubernetes-sigs/iptables-wrappers",
    ],
    detect: (e) => {
      const legacy = e.legacyScan;
      const notice = e.scan?.warnings.find((w) => /iptables-legacy tables present/.test(w.text));
      if ((legacy === undefined || legacy.rules === 0) && notice === undefined) return undefined;
      const evidence: Evidence[] = [];
      if (notice !== undefined) evidence.push({ file: e.scan!.file, line: notice.line, text: notice.text });
      if (legacy !== undefined && legacy.rules > 0) {
        evidence.push({ file: legacy.file, text: `${legacy.rules} rules in iptables-legacy-save output` });
      }
      return {
        message: `Node "${e.node}" has rules in the legacy backend${legacy ? ` (${legacy.rules})` : ""} next to ${e.scan?.rules ?? "unknown"} in ${e.scan?.header.backend ?? "the other backend"}`,
        evidence,
      };
    },
  },
  {
    id: "version-skew",
    kb: "KB-08",
    title: "Rules corrupted by an iptables-save older than the iptables that wrote them",
    code: "iptables-known-bug",
    severity: "error",
    affected:
      "any reader older than the writer (e.g. 1.8.7 reading 1.8.8 rules; host iptables older than k3s's bundled one)",
    fix:
      "Read and restore with the same binary that wrote the rules (on k3s: /var/lib/rancher/k3s/data/current/bin/aux/iptables-save), " +
      "stop whatever round-trips iptables-save | iptables-restore, and restart k3s/kube-proxy to regenerate the damaged rules",
    references: ["kubernetes/kubernetes#112477", "k3s-io/k3s#8793", "kubernetes/kubernetes#95409"],
    detect: (e) =>
      signature(
        e,
        ["cni-hostport-masq-markless", "kube-firewall-markless-drop", "unsupported-revision"],
        "rules that lost a match in a save/restore round trip with a different iptables version",
      ),
  },
  {
    id: "xtables-lock",
    kb: "KB-09",
    title: "xtables lock contention",
    code: "iptables-unreadable",
    severity: "error",
    affected: "any",
    fix: "Mount /run/xtables.lock into every container that runs iptables, find and stop the lock holder, and shrink the tables (remove duplicates)",
    references: ["kubernetes/kubernetes#57428", "k3s-io/k3s#11098", "flannel-io/flannel PR #1529"],
    detect: (e) => stderrMatch(e, /xtables lock|Resource temporarily unavailable/i),
  },
  {
    id: "large-ruleset-memory",
    kb: "KB-15",
    title: "iptables fails on a very large rule set",
    code: "iptables-unreadable",
    severity: "error",
    affected: "any; legacy iptables-restore slows down at 100,000-150,000 lines",
    fix: "Remove leaked and duplicate rules and their cause; raise kube-proxy's min-sync-period on large clusters",
    references: ["concourse/concourse#3127", "kubernetes/kubernetes#96018"],
    detect: (e) => stderrMatch(e, /Memory allocation problem|cannot allocate memory|vmalloc/i),
  },
  {
    id: "no-nf-tables-kernel",
    kb: "KB-16",
    title: "iptables-nft on a kernel without nf_tables",
    code: "iptables-unreadable",
    severity: "error",
    affected: "iptables-nft on kernels without nf_tables",
    fix: "Use the legacy backend (update-alternatives --set iptables /usr/sbin/iptables-legacy)",
    references: ["linkerd/linkerd2#9053"],
    detect: (e) => stderrMatch(e, /Could not fetch rule set generation id/),
  },
  {
    id: "nft-incompatible",
    kb: "KB-17",
    title: "Native nftables rules that iptables-nft cannot show",
    code: "iptables-known-bug",
    severity: "warning",
    affected: "iptables-nft (seen with 1.8.9) next to software writing native nft rules",
    fix: "Keep native nftables rules in their own tables, away from the tables iptables-nft manages; read them with `nft list ruleset`",
    references: ["k3s-io/k3s#11493", "cloudnativelabs/kube-router#1788"],
    detect: (e) => {
      const fromErr = stderrMatch(e, /cmp sreg undef|Parsing nftables rule failed/);
      if (fromErr !== undefined) return fromErr;
      const w = e.scan?.warnings.find((x) => /is incompatible, use 'nft' tool/.test(x.text));
      if (w === undefined) return undefined;
      return {
        message: `Node "${e.node}" has tables iptables-nft cannot show: rules there are invisible in this dump`,
        evidence: [{ file: e.scan!.file, line: w.line, text: w.text }],
      };
    },
  },
];
