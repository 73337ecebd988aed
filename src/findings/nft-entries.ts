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

export interface HostFirewallDropValues {
  readonly node: string;
  /** The table as its tool names it: `inet firewalld`, `ip filter (iptables)`. */
  readonly table: string;
  readonly chain: string;
  /** `nodes/n1/nft-ruleset.txt:42 handle 17`, `nodes/n1/iptables-save.txt:88`. */
  readonly where: string;
  /** What wrote the table, when its name says so. */
  readonly kind: "firewalld" | "ufw" | "nftables" | "iptables";
  /** `drops` or `rejects`. */
  readonly outcome: "drops" | "rejects";
  /** Share of the connections, percent. */
  readonly share: number;
  /** What the client sees, e.g. `gets EHOSTUNREACH ("No route to host")`, `times out`. */
  readonly clientSees: string;
  /** The cluster's pod and Service ranges, when known, for the fix. */
  readonly podCidr?: string;
  readonly serviceCidr?: string;
}

const K3S_REQUIREMENTS = "https://docs.k3s.io/installation/requirements#operating-systems";
const FIREWALLD_ZONES = "https://firewalld.org/documentation/zone/predefined-zones.html";

function trustFix(v: HostFirewallDropValues): string {
  const pods = v.podCidr ?? "the pod CIDR (10.42.0.0/16 on k3s)";
  const svcs = v.serviceCidr ?? "the Service CIDR (10.43.0.0/16 on k3s)";
  switch (v.kind) {
    case "firewalld":
      return `Trust the cluster's ranges in firewalld on ${v.node}, as the k3s requirements say: \`firewall-cmd --permanent --zone=trusted --add-source=${pods}\`, \`firewall-cmd --permanent --zone=trusted --add-source=${svcs}\` (or add the flannel interfaces cni0 and flannel.1 to the trusted zone), then \`firewall-cmd --reload\`; or disable firewalld`;
    case "ufw":
      return `Allow the cluster's ranges in ufw on ${v.node}, as the k3s requirements say: \`ufw allow from ${pods} to any\` and \`ufw allow from ${svcs} to any\`; or disable ufw`;
    case "nftables":
    case "iptables":
      return `Accept the cluster's traffic in ${v.table} chain ${v.chain} on ${v.node} before the rule at ${v.where}: traffic from and to ${pods} and ${svcs} (or in on cni0 / flannel.1), then make the change permanent where that ruleset is loaded from`;
    default: {
      const never: never = v.kind;
      return never;
    }
  }
}

export const HOST_FIREWALL_DROP: FindingEntry<HostFirewallDropValues> = {
  code: "host-firewall-drop",
  severity: "error",
  title: "A host firewall drops or rejects the cluster's traffic",
  explanation:
    "Every base chain of every netfilter table sees the packet at its hook, in priority order; an accept in kube-proxy's or flannel's rules does not stop a later table's drop. A table that is not Kubernetes' own (firewalld's `inet firewalld`, ufw's chains, a hand-written `inet filter`) drops or rejects the pod's or Service's traffic, although kube-proxy's rules are right. k3s's requirements ask to turn such firewalls off or to trust the pod and Service ranges.",
  message: (v) =>
    `The ${v.kind === "iptables" || v.kind === "ufw" ? "iptables" : "nftables"} table ${v.table} on ${v.node} ${v.outcome} ${v.share}% of the connections in chain ${v.chain} (${v.where}): a host firewall, not Kubernetes' rules; the client ${v.clientSees}`,
  fix: trustFix,
  references: [K3S_REQUIREMENTS, FIREWALLD_ZONES, "k3s-io/k3s#2059", "k3s-io/k3s#7211"],
};
