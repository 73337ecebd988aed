/**
 * Catalogue entries of kube-proxy's nftables mode (src/kube-proxy/nftables/). Stale and missing
 * endpoints, rejected Services, missing entries and leftover chains use the codes iptables mode uses
 * (dataplane-entries.ts, with `backend: "nftables"` for the wording); these are the ones only
 * nftables mode has.
 */
import type { FindingEntry } from "./finding-entry.ts";
import { type NodeKind, restartKubeProxy } from "./kube-proxy-restart.ts";

const NFT_PROXIER = "kubernetes/kubernetes pkg/proxy/nftables/proxier.go";

interface OnNode {
  readonly node: string;
  readonly nodeKind?: NodeKind;
}

export interface NftNumgenMismatchValues extends OnNode {
  /** `ns/svc:port (clusterIP:port/proto)`. */
  readonly where: string;
  /** N of `numgen random mod N`. */
  readonly mod: number;
  /** Indexes the verdict map holds. */
  readonly entries: number;
  /** Ready endpoints the API lists for the chain. */
  readonly ready: number;
  /** `holes`: some N values have no entry; `unused`: entries beyond N; `uneven`: N differs from the ready endpoints. */
  readonly kind: "holes" | "unused" | "uneven";
}

export interface NftServiceStaleValues extends OnNode {
  /** `namespace/name`, or `ClusterIP a.b.c.d` when nothing names the Service. */
  readonly service: string;
  /** The map elements, `service-ips 10.43.0.9 . tcp . 80`. */
  readonly elements: readonly string[];
}

export interface NftTableMissingValues extends OnNode {
  /** What says the node runs nftables mode, e.g. `kube-proxy-mode.txt says nftables`. */
  readonly modeSource: string;
}

const check = (v: OnNode) =>
  `${restartKubeProxy(v.node, v.nodeKind)} and check its log for "nftables sync failed"; compare with \`nft list table ip kube-proxy\``;

export const NFT_NUMGEN_MISMATCH: FindingEntry<NftNumgenMismatchValues> = {
  code: "nft-numgen-mismatch",
  severity: "error",
  title: "A Service's numgen verdict map does not match its endpoints",
  explanation:
    "kube-proxy's nftables mode balances a Service port with `numgen random mod N vmap { 0 : goto endpoint-…, … }`, N being the number of endpoints. When N leaves values without an entry, those new connections meet no endpoint, fall through to the ClusterIP and are refused by cluster-ips-check; entries beyond N are never used; N differing from the ready endpoints spreads the load unevenly.",
  message: (v) =>
    v.kind === "holes"
      ? `Node "${v.node}" balances ${v.where} with numgen random mod ${v.mod} but a verdict map of ${v.entries} entr${v.entries === 1 ? "y" : "ies"}: ${v.mod - v.entries} in ${v.mod} new connections meet no endpoint and fall through to the ClusterIP (refused by cluster-ips-check)`
      : v.kind === "unused"
        ? `Node "${v.node}" balances ${v.where} with numgen random mod ${v.mod}, which never picks ${v.entries - v.mod} of its ${v.entries} verdict map entries`
        : `Node "${v.node}" balances ${v.where} with numgen random mod ${v.mod} over ${v.ready} ready endpoint${v.ready === 1 ? "" : "s"}: the spread is uneven`,
  fix: check,
  references: [NFT_PROXIER],
};

export const NFT_SERVICE_STALE: FindingEntry<NftServiceStaleValues> = {
  code: "nft-service-stale",
  severity: "warning",
  title: "kube-proxy's maps still dispatch a Service the API no longer has",
  explanation:
    "Elements of service-ips, service-nodeports, no-endpoint-services, no-endpoint-nodeports, firewall-ips or cluster-ips (and the chains they lead to) belong to a Service or port the API no longer has: kube-proxy removes them on its next successful sync, so they mean syncs that stopped, or a Service deleted moments before the collection.",
  message: (v) =>
    `Node "${v.node}" still dispatches ${v.service}, which the API no longer has (${v.elements.join(", ")}): kube-proxy's syncs stopped, or the Service was deleted moments ago`,
  fix: check,
  references: [NFT_PROXIER],
};

export const NFT_TABLE_MISSING: FindingEntry<NftTableMissingValues> = {
  code: "nft-table-missing",
  severity: "error",
  title: "kube-proxy runs in nftables mode but its table is absent",
  explanation:
    "kube-proxy in nftables mode keeps everything in `table ip kube-proxy` (and `ip6 kube-proxy`). Without it no Service is translated on the node: ClusterIPs go nowhere.",
  message: (v) =>
    `Node "${v.node}" runs kube-proxy in nftables mode (${v.modeSource}) but has no table ip kube-proxy: no Service is translated on this node`,
  fix: check,
  references: [NFT_PROXIER],
};
