/**
 * The overlay lab's spec (nodes, pods, NICs) and the state it keeps of each node and pod once built;
 * see overlay-lab.ts for the address layout.
 */
import type { Agent } from "./overlay-lab-ns.ts";

/** A pod of the lab: its namespace on the node's cni0, address, listening ports and labels. */
export interface OverlayLabPod {
  readonly name: string;
  readonly namespace?: string;
  readonly ip: string;
  readonly tcpPorts?: readonly number[];
  readonly udpPorts?: readonly number[];
  readonly labels?: Readonly<Record<string, string>>;
}

/** A node of the lab: its index (addresses follow from it), pods and optional NICs. */
export interface OverlayLabNode {
  readonly name: string;
  /** 1..9: podCIDR 198.18.INDEX.0/24, eth0 198.19.255.(10+INDEX). */
  readonly index: number;
  readonly pods: readonly OverlayLabPod[];
  /** eth1 on the second underlay 198.19.254.0/24. */
  readonly secondNic?: boolean;
  /** A Vagrant-style NAT NIC with the same address on every node and the default route. */
  readonly natNic?: boolean;
  /** The NIC flannel binds flannel.1 to (default eth0; k3s without --flannel-iface: the default route's). */
  readonly flannelIface?: "eth0" | "eth1" | "nat0";
  /** The public-ip annotation when it is not the address of `flannelIface` (public-ip-overwrite). */
  readonly publicIp?: string;
}

/** What to build: the nodes, and the area that names the lab's namespaces (`nd-<area>-<pid>-<n>`). */
export interface OverlayLabSpec {
  readonly area?: string;
  readonly nodes: readonly OverlayLabNode[];
}

/** What the lab knows of a node, for the API objects and for the cases. */
export interface LabNodeState {
  readonly spec: OverlayLabNode;
  readonly ns: string;
  readonly podCidr: string;
  readonly overlayIp: string;
  readonly eth0Ip: string;
  publicIp: string;
  vtepMac: string;
  /** flannel.1's MTU when flannel created it: what it writes as FLANNEL_MTU. */
  flannelMtu: number;
}

/** What the lab knows of a pod: its node, namespace, uid and the agent answering in it. */
export interface LabPodState {
  readonly spec: OverlayLabPod;
  readonly node: string;
  readonly ns: string;
  readonly uid: string;
  agent?: Agent;
}
