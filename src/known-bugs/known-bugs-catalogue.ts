/**
 * The catalogue of known iptables / k3s failure signatures, kept as data: one entry each with how to
 * detect it from a node's evidence, the affected versions, the fix and public references. Facts come
 * from shared/reference/iptables-known-bugs.md; the leak bugs (a broken `iptables -C`) are in
 * leak-bugs.ts.
 */
import type { Evidence } from "../model/finding.ts";
import type { Detection, KnownBug } from "./known-bug.ts";
import { LEAK_BUGS } from "./leak-bugs.ts";
import { mixedKubeChains } from "./mixed-kube-chains.ts";
import type { NodeEvidence } from "./node-evidence.ts";

export type { Detection, KnownBug };

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

/** KB-07's specific case: kube-proxy's or kube-router's chains in both backends (mixed-kube-chains.ts). */
const MIXED_KUBE_CHAINS: KnownBug = {
  id: "mixed-kube-chains",
  kb: "KB-07",
  title: "Kubernetes chains in both iptables backends",
  code: "mixed-iptables-backends",
  severity: "warning",
  affected:
    "nodes whose iptables backend changed under kube-proxy or kube-router (legacy to nf_tables or back: an OS or k3s upgrade, a kube-proxy image built on the other backend)",
  fix: "Find the backend kube-proxy and kube-router write now (the one whose Service rules match the API; kubelet's KUBE-IPTABLES-HINT chain marks it) and remove the Kubernetes chains from the other: save it first (`iptables-legacy-save > legacy.bak` or `iptables-nft-save > nft.bak`), then flush and delete its KUBE-* chains with that backend's iptables (`iptables-legacy -t nat -F`, `-X` per chain), or run `kube-proxy --cleanup` with that backend's iptables; keep every component on one backend (kubernetes-sigs/iptables-wrappers)",
  references: [
    "kubernetes/kubernetes#107965",
    "kubernetes/kubernetes#71305",
    "cloudnativelabs/kube-router#1069",
    "kubernetes/node-problem-detector PR #844",
    "kubernetes-sigs/iptables-wrappers",
  ],
  detect: mixedKubeChains,
};

/** Every entry: the leak bugs first (most specific first), then the other signatures. */
export const KNOWN_BUGS: readonly KnownBug[] = [
  ...LEAK_BUGS,
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
      // Kubernetes' own chains in both backends: the more specific entry below says it.
      if (mixedKubeChains(e) !== undefined) return undefined;
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
  MIXED_KUBE_CHAINS,
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
