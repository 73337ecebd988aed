/** Catalogue entries of kube-proxy's IPVS mode: virtual servers, real servers and its ipsets. */
import type { FindingEntry } from "./finding-entry.ts";

const IPVS_PROXIER = "kubernetes/kubernetes pkg/proxy/ipvs/proxier.go";

interface OnVirtualServer {
  readonly node: string;
  /** kube-proxy's ServicePortName, e.g. `shop/web:http`. */
  readonly svcPortName: string;
  /** `tcp 10.43.12.7:80`. */
  readonly key: string;
}

export interface IpvsVirtualServerMissingValues extends OnVirtualServer {
  readonly kind: "cluster-ip" | "external-ip" | "load-balancer" | "node-port";
  /** The ipvsadm file that lacks it. */
  readonly file: string;
}

export interface IpvsVirtualServerStaleValues {
  readonly node: string;
  readonly key: string;
}

export interface IpvsRealServerMissingValues extends OnVirtualServer {
  /** `ip:port` of the ready endpoint. */
  readonly realServer: string;
  /** True when it is there but with weight 0. */
  readonly weightZero: boolean;
}

export interface IpvsRealServerStaleValues extends OnVirtualServer {
  readonly realServer: string;
  readonly weight: number;
  /** `none`: no endpoint of the Service has the address; `not-ready`: it is one, not ready. */
  readonly endpoint: "none" | "not-ready";
}

export interface IpvsRealServerDrainingValues extends OnVirtualServer {
  readonly realServer: string;
  readonly why: "terminating" | "removed";
  /** Active + inactive connections (only `ipvsadm -Ln` shows them). */
  readonly connections?: number;
}

export interface IpvsIpsetEntryMissingValues {
  readonly node: string;
  readonly set: string;
  /** `ClusterIP:port` or `node port`. */
  readonly what: string;
  /** The missing member and its Service port; absent when the whole set is missing. */
  readonly entry?: string;
  readonly svcPortName?: string;
  /** How many entries the missing set should hold. */
  readonly count?: number;
  readonly file: string;
}

export interface IpvsIpsetEntryStaleValues {
  readonly node: string;
  readonly set: string;
  readonly what: string;
  readonly entry: string;
}

const resync = (node: string) =>
  `Check kube-proxy's log on "${node}" for sync errors; restarting kube-proxy resyncs IPVS and its ipsets`;

export const IPVS_VIRTUAL_SERVER_MISSING: FindingEntry<IpvsVirtualServerMissingValues> = {
  code: "ipvs-virtual-server-missing",
  severity: "error",
  title: "A Service address has no IPVS virtual server",
  explanation:
    "In IPVS mode kube-proxy keeps one virtual server per ClusterIP:port, externalIP:port, LoadBalancer IP:port and node IP:nodePort. Without it the node does not balance that address: connections to it are refused or go nowhere.",
  message: (v) => `${v.svcPortName}: no IPVS virtual server for ${v.kind} ${v.key} in ${v.file}`,
  fix: (v) => resync(v.node),
  references: [IPVS_PROXIER],
};

export const IPVS_VIRTUAL_SERVER_STALE: FindingEntry<IpvsVirtualServerStaleValues> = {
  code: "ipvs-virtual-server-stale",
  severity: "warning",
  title: "An IPVS virtual server no Service explains",
  explanation:
    "A virtual server on a Service or node address (or in the Service CIDR) that matches no current Service port: left behind by a deleted Service or port. It keeps balancing to whatever real servers it still has.",
  message: (v) =>
    `IPVS virtual server ${v.key} on "${v.node}" matches no current Service port: left behind by a deleted Service or port`,
  fix: (v) => resync(v.node),
  references: [IPVS_PROXIER],
};

export const IPVS_REAL_SERVER_MISSING: FindingEntry<IpvsRealServerMissingValues> = {
  code: "ipvs-real-server-missing",
  severity: "error",
  title: "A ready endpoint is not an IPVS real server",
  explanation:
    "A ready endpoint of the Service is not a real server of its virtual server, or is one with weight 0: the node sends it no new connections.",
  message: (v) =>
    v.weightZero
      ? `${v.svcPortName}: ready endpoint ${v.realServer} is a real server of ${v.key} with weight 0: it gets no new connections`
      : `${v.svcPortName}: endpoint ${v.realServer} is not a real server of ${v.key}`,
  fix: (v) => resync(v.node),
  references: [IPVS_PROXIER],
};

export const IPVS_REAL_SERVER_STALE: FindingEntry<IpvsRealServerStaleValues> = {
  code: "ipvs-real-server-stale",
  severity: {
    rule: "error while it has weight; warning at weight 0",
    of: (v) => (v.weight > 0 ? "error" : "warning"),
  },
  title: "An IPVS real server that is not an endpoint",
  explanation:
    "A real server the Service should not balance to. With weight above 0 new connections go to it (a deleted or not-ready pod: timeouts, refusals, or a pod that reused the IP). At weight 0 with no connections left and no endpoint any more, graceful termination should have removed it (kubernetes/kubernetes#81775 class).",
  message: (v) =>
    v.weight > 0
      ? `${v.svcPortName}: real server ${v.realServer} of ${v.key} has weight ${v.weight} but is ${v.endpoint === "none" ? "no endpoint of the Service" : "not a ready endpoint"}: new connections are sent to it`
      : `${v.svcPortName}: real server ${v.realServer} of ${v.key} has weight 0 and no connections, and is no endpoint any more: graceful termination should have removed it`,
  fix: (v) => resync(v.node),
  references: (v) => (v.weight > 0 ? [IPVS_PROXIER] : [IPVS_PROXIER, "kubernetes/kubernetes#81775"]),
};

export const IPVS_REAL_SERVER_DRAINING: FindingEntry<IpvsRealServerDrainingValues> = {
  code: "ipvs-real-server-draining",
  severity: "info",
  title: "An IPVS real server drains (graceful termination)",
  explanation:
    "kube-proxy sets a real server's weight to 0 when its endpoint goes away or starts terminating, and deletes it once its connections are gone (UDP at once). Until then it takes no new connections: this is normal.",
  message: (v) =>
    `${v.svcPortName}: real server ${v.realServer} of ${v.key} has weight 0 because its endpoint ${v.why === "terminating" ? "is terminating" : "was removed"}: graceful termination, ` +
    (v.connections === undefined
      ? "normal while its connections last (`ipvsadm -Ln` shows how many)"
      : `normal while its ${v.connections} connection(s) drain`),
  fix: () => "",
  references: [IPVS_PROXIER],
};

export const IPVS_IPSET_ENTRY_MISSING: FindingEntry<IpvsIpsetEntryMissingValues> = {
  code: "ipvs-ipset-entry-missing",
  severity: "error",
  title: "kube-proxy's IPVS ipset lacks a Service",
  explanation:
    "The iptables glue of IPVS mode recognises Service traffic through ipsets (`-m set --match-set KUBE-CLUSTER-IP dst,dst`, KUBE-NODE-PORT-TCP/UDP): a missing member means that traffic is not masqueraded, accepted or filtered as the Service needs.",
  message: (v) =>
    v.entry === undefined
      ? `ipset ${v.set} is not in ${v.file}: its ${v.count ?? 0} ${v.what} entries are missing`
      : `${v.svcPortName}: ${v.set} lacks ${v.entry}: the IPVS glue rules do not recognise this ${v.what}`,
  fix: (v) => resync(v.node),
  references: [IPVS_PROXIER, "kubernetes/kubernetes pkg/proxy/ipvs/ipset.go"],
};

export const IPVS_IPSET_ENTRY_STALE: FindingEntry<IpvsIpsetEntryStaleValues> = {
  code: "ipvs-ipset-entry-stale",
  severity: "warning",
  title: "kube-proxy's IPVS ipset holds a deleted Service",
  explanation:
    "A member of KUBE-CLUSTER-IP or KUBE-NODE-PORT-* that no current Service explains: left behind after a Service was deleted.",
  message: (v) => `${v.set} holds ${v.entry}, which no current Service ${v.what} explains`,
  fix: (v) => resync(v.node),
  references: [IPVS_PROXIER],
};
