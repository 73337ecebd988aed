/**
 * Catalogue entries of the nodes' kernel settings and connection tracking on the path across nodes
 * (src/hostnet): forwarding, br_netfilter, rp_filter, stale conntrack entries, the VXLAN
 * checksum-offload known bug, and the checks that could not run.
 */
import type { FindingEntry } from "./finding-entry.ts";

export interface IpForwardDisabledValues {
  readonly node: string;
  /** The sysctl lines that are 0. */
  readonly lines: readonly string[];
}

export interface BridgeNfDisabledValues {
  readonly node: string;
  /** The value of net.bridge.bridge-nf-call-iptables; absent when the key is (br_netfilter not loaded). */
  readonly value?: number;
}

export interface RpFilterDropValues {
  readonly node: string;
  /** `VXLAN packets from node "a" (198.19.255.11)`. */
  readonly what: string;
  readonly iif: string;
  readonly reason: string;
}

export interface ConntrackStaleEndpointValues {
  readonly node: string;
  readonly protocol: string;
  readonly count: number;
  /** The original destination, `ip:port` (a ClusterIP when DNATed). */
  readonly target: string;
  /** The Service whose ClusterIP `target` is. */
  readonly service?: string;
  /** The reply source no pod has any more. */
  readonly deadIp: string;
}

export interface ConntrackTruncatedValues {
  readonly node: string;
  readonly limit: number;
  readonly omitted: number;
}

export interface OverlayChecksumOffloadValues {
  readonly node: string;
  readonly kind: "old-kernel" | "nat";
  readonly kernel?: string;
  readonly publicIp?: string;
}

export type HostnetUndecidedValues =
  | { readonly kind: "no-directory"; readonly node: string }
  | {
      readonly kind: "missing-files";
      readonly node: string;
      readonly checks: readonly string[];
      readonly files: readonly string[];
    }
  | { readonly kind: "kernel-unknown"; readonly node: string }
  | { readonly kind: "annotation"; readonly node: string; readonly problem: string };

export const IP_FORWARD_DISABLED: FindingEntry<IpForwardDisabledValues> = {
  code: "ip-forward-disabled",
  severity: "error",
  title: "The node does not forward IPv4",
  explanation:
    "Every pod packet that leaves a node, and every packet that reaches a pod from another node, is forwarded (cni0 ↔ flannel.1). With net.ipv4.ip_forward (or forwarding on cni0 / flannel.1) at 0 the kernel drops them without an ICMP error: connections time out.",
  message: (v) =>
    `Node "${v.node}" does not forward IPv4 (${v.lines.join("; ")}): packets of its pods to other nodes, and packets from other nodes to its pods, are dropped without ICMP`,
  fix: (v) => `sysctl -w net.ipv4.ip_forward=1 on "${v.node}" (and persist it in /etc/sysctl.d/)`,
  references: ["kubernetes/kubernetes#24019"],
};

export const BRIDGE_NF_DISABLED: FindingEntry<BridgeNfDisabledValues> = {
  code: "bridge-nf-disabled",
  severity: "warning",
  title: "Bridged pod traffic bypasses iptables",
  explanation:
    "Two pods of one node talk across the cni0 bridge. When one reaches the other through a Service, only br_netfilter (net.bridge.bridge-nf-call-iptables = 1) lets conntrack see the bridged reply and undo the DNAT; without it the client gets an answer from the pod's own address and drops it.",
  message: (v) =>
    v.value === undefined
      ? `Node "${v.node}" has no net.bridge.bridge-nf-call-iptables: br_netfilter is not loaded, so a Service connection between two pods of this node is never un-NATed`
      : `Node "${v.node}" has net.bridge.bridge-nf-call-iptables = ${v.value}: bridged pod traffic bypasses iptables, so a Service connection between two pods of this node gets its reply from the wrong address`,
  fix: (v) =>
    `modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 on "${v.node}" (persist both)`,
  references: ["kubernetes/kubernetes#38802"],
};

export const RP_FILTER_DROP: FindingEntry<RpFilterDropValues> = {
  code: "rp-filter-drop",
  severity: "error",
  title: "Strict reverse-path filtering drops the overlay's packets",
  explanation:
    "With rp_filter = 1 (the maximum of conf.all and conf.IF) the kernel drops a packet whose source it would route back by another interface. On an asymmetric overlay path (VXLAN arriving on one NIC, the route back on another) that drops every packet silently.",
  message: (v) => `Node "${v.node}" drops ${v.what} arriving on ${v.iif}: ${v.reason}`,
  fix: (v) =>
    `Set net.ipv4.conf.all.rp_filter and net.ipv4.conf.${v.iif.replaceAll(".", "/")}.rp_filter to 2 (loose) or 0 on "${v.node}", or make the path symmetric (bind flannel to the interface that holds the public-ip)`,
  references: ["cilium/cilium#10645", "kubernetes/kubernetes#38802"],
};

export const CONNTRACK_STALE_ENDPOINT: FindingEntry<ConntrackStaleEndpointValues> = {
  code: "conntrack-stale-endpoint",
  severity: {
    rule: "error for UDP entries of a Service; warning otherwise",
    of: (v) => (v.protocol === "udp" && v.service !== undefined ? "error" : "warning"),
  },
  title: "Conntrack still sends a flow to a pod that is gone",
  explanation:
    "An entry's reply source is where the flow really goes (the endpoint a ClusterIP was DNATed to). When no pod has that IP any more, a client that keeps its UDP source port (DNS resolvers, syslog, statsd) refreshes the entry with every packet and never reaches a live endpoint; kube-proxy should have deleted it.",
  message: (v) =>
    `Node "${v.node}" has ${v.count} ${v.protocol.toUpperCase()} conntrack ${v.count === 1 ? "entry" : "entries"} for ${v.target}${v.service === undefined ? "" : ` (Service ${v.service})`} whose replies come from ${v.deadIp}, an IP no pod has any more${v.protocol === "udp" ? ": clients that keep their source port keep sending there" : ""}`,
  fix: (v) =>
    `conntrack -D -p ${v.protocol} --reply-src ${v.deadIp} on node ${v.node} (kube-proxy should have done it when the endpoint went away)`,
  references: ["kubernetes/kubernetes#125467", "kubernetes/kubernetes#129617"],
};

export const CONNTRACK_TRUNCATED: FindingEntry<ConntrackTruncatedValues> = {
  code: "conntrack-truncated",
  severity: "info",
  title: "The conntrack listing was cut",
  explanation:
    "conntrack.txt keeps at most a fixed number of entries, UDP first; entries beyond it were not collected, so stale TCP entries may be missed.",
  message: (v) =>
    `The conntrack listing of node "${v.node}" was cut after ${v.limit} entries (${v.omitted} more, UDP listed first): stale TCP entries may be missed`,
  fix: () => "",
  references: [],
};

export const OVERLAY_CHECKSUM_OFFLOAD: FindingEntry<OverlayChecksumOffloadValues> = {
  code: "overlay-checksum-offload",
  severity: "warning",
  title: "VXLAN checksum offload where it corrupts packets",
  explanation:
    "With tx-checksum-ip-generic on for the VXLAN device, kernels before 5.7 compute a wrong outer UDP checksum for packets masqueraded with --random-fully and receivers drop them (63-second delays or no traffic); with a public IP behind NAT it is reported on later kernels too.",
  message: (v) =>
    v.kind === "old-kernel"
      ? `Node "${v.node}" runs kernel ${v.kernel ?? "?"} (before 5.7) with tx-checksum-ip-generic on for the VXLAN device: masqueraded packets get a wrong outer checksum and are dropped by the receiver`
      : `Node "${v.node}" announces public-ip ${v.publicIp ?? "?"}, which is none of its addresses (NAT), with tx-checksum-ip-generic on for the VXLAN device: checksums of NATed VXLAN packets can be wrong`,
  fix: (v) =>
    `ethtool -K flannel.1 tx-checksum-ip-generic off on "${v.node}" (persist it with a udev rule, see flannel's troubleshooting guide)`,
  references: (v) =>
    v.kind === "old-kernel"
      ? ["flannel-io/flannel#1279", "projectcalico/calico#3145"]
      : ["flannel-io/flannel#2152", "flannel-io/flannel#1929"],
};

export const HOSTNET_UNDECIDED: FindingEntry<HostnetUndecidedValues> = {
  code: "hostnet-undecided",
  severity: "info",
  title: "A cross-node check could not run",
  explanation:
    "A check of the path across nodes needs a file the bundle does not have (older collection, a command missing on the node), or a fact the API does not give. It is undecided, never OK.",
  message: (v) => {
    switch (v.kind) {
      case "no-directory":
        return `Node "${v.node}" has no directory in the bundle: none of its cross-node checks can run`;
      case "missing-files":
        return `Node "${v.node}": ${v.checks.join(", ")} not checked; missing ${v.files.join(", ")}`;
      case "kernel-unknown":
        return `Node "${v.node}" has VXLAN tx checksum offload on and no kernel version in the API: the checksum-offload bug (kernels before 5.7) cannot be ruled out`;
      case "annotation":
        return `Node "${v.node}": ${v.problem}`;
      default: {
        const never: never = v;
        throw new TypeError(`Unknown undecided kind ${String(never)}`);
      }
    }
  },
  fix: (v) =>
    v.kind === "missing-files" || v.kind === "no-directory"
      ? "Collect the node again with a netdoctor that gathers the host network files (docs/bundle.md)"
      : "",
  references: [],
};
