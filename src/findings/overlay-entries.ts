/**
 * Catalogue entries of the flannel VXLAN overlay between nodes (src/hostnet): what flannel installs
 * for every peer lease (route, neighbour, FDB), each node's own VXLAN device, and MTUs.
 */
import type { FindingEntry } from "./finding-entry.ts";

const FLANNEL_VXLAN = "https://github.com/flannel-io/flannel/blob/master/pkg/backend/vxlan/vxlan.go";
const STALE = ["flannel-io/flannel#533", "flannel-io/flannel#1036", "flannel-io/flannel#1788"];
const MULTI_NIC = ["k3s-io/k3s#1131", "k3s-io/k3s#4847"];
const restartFlannel = (node: string) =>
  `Restart flannel on "${node}" (k3s: the k3s service) so it installs its peers' entries again, and check its log`;

/** A node and the peer whose lease an entry is for. */
interface OnPeer {
  readonly node: string;
  readonly peer: string;
}

export interface OverlayRouteMissingValues extends OnPeer {
  readonly podCidr: string;
  /** Where the lookup goes instead, when known: `it would leave by eth0`. */
  readonly instead?: string;
}

export interface OverlayRouteWrongValues extends OnPeer {
  readonly podCidr: string;
  /** `device eth0 instead of flannel.1`, `no "onlink" flag`. */
  readonly problems: readonly string[];
  /** The route flannel would have installed. */
  readonly expected: string;
}

export interface OverlayNeighborValues extends OnPeer {
  /** The peer's overlay address (the network address of its pod CIDR). */
  readonly overlayIp: string;
  readonly dev: string;
  /** The peer's VtepMAC. */
  readonly mac: string;
  /** missing: the MAC-less state left (FAILED, INCOMPLETE), if any; stale: the MAC found. */
  readonly found?: string;
}

export interface OverlayFdbValues extends OnPeer {
  readonly mac: string;
  readonly dev: string;
  readonly publicIp: string;
  /** stale: `old-mac` (the public IP goes to other MACs) or `wrong-dst` (the MAC goes elsewhere). */
  readonly kind?: "old-mac" | "wrong-dst";
  /** stale: the MACs found for the IP, or the IP found for the MAC. */
  readonly found?: string;
}

export interface OverlayVtepMismatchValues {
  readonly node: string;
  readonly dev: string;
  readonly deviceMac?: string;
  readonly announced: string;
}

export interface OverlayDeviceMissingValues {
  readonly node: string;
  readonly dev: string;
  readonly state: "missing" | "down";
}

export interface OverlayWrongInterfaceValues {
  readonly node: string;
  readonly dev: string;
  readonly local?: string;
  readonly bound?: string;
  readonly publicIp: string;
  /** The interface that holds the public-ip. */
  readonly holder: string;
}

export interface OverlayPublicIpDuplicateValues {
  readonly node: string;
  readonly publicIp: string;
  readonly nodes: readonly string[];
}

export type OverlayMtuMismatchValues =
  | {
      readonly kind: "own";
      readonly node: string;
      readonly dev: string;
      readonly mtu: number;
      readonly underlay: string;
      readonly underlayMtu: number;
    }
  | {
      readonly kind: "peer";
      readonly node: string;
      readonly peer: string;
      readonly dev: string;
      readonly mtu: number;
      readonly receiver: string;
      readonly receiverMtu: number;
    }
  | {
      readonly kind: "cni0";
      readonly node: string;
      readonly dev: string;
      readonly mtu: number;
      readonly cniMtu: number;
    }
  | {
      readonly kind: "subnet-env";
      readonly node: string;
      readonly dev: string;
      readonly mtu: number;
      readonly envMtu: number;
    };

export const OVERLAY_ROUTE_MISSING: FindingEntry<OverlayRouteMissingValues> = {
  code: "overlay-route-missing",
  severity: "error",
  title: "No route to a peer node's pods through the overlay",
  explanation:
    "flannel adds, for every peer lease, a route PEER-PODCIDR via PEER-OVERLAY-IP dev flannel.1 onlink. Without it, packets to that node's pods follow another route (often the default one, out of the underlay unencapsulated) or none.",
  message: (v) =>
    `Node "${v.node}" has no route for ${v.podCidr} (pods of node "${v.peer}")${v.instead === undefined ? "" : `; ${v.instead}`}`,
  fix: (v) => restartFlannel(v.node),
  references: [FLANNEL_VXLAN],
};

export const OVERLAY_ROUTE_WRONG: FindingEntry<OverlayRouteWrongValues> = {
  code: "overlay-route-wrong",
  severity: "error",
  title: "The route to a peer node's pods is not flannel's",
  explanation:
    "The route for a peer's pod CIDR exists but has another device or gateway than flannel's, or lacks onlink (without it the kernel refuses a gateway outside the device's subnet). A DirectRouting route via the peer's public IP is accepted.",
  message: (v) => `Node "${v.node}" routes ${v.podCidr} (node "${v.peer}") with ${v.problems.join(", ")}`,
  fix: (v) => `Expected ${v.expected}, as flannel installs it. ${restartFlannel(v.node)}`,
  references: [FLANNEL_VXLAN],
};

export const OVERLAY_NEIGHBOR_MISSING: FindingEntry<OverlayNeighborValues> = {
  code: "overlay-neighbor-missing",
  severity: "error",
  title: "No neighbour entry for a peer's overlay address",
  explanation:
    "flannel installs a PERMANENT neighbour entry for each peer's overlay address with the peer's VtepMAC. On a VXLAN device without learning nothing ever answers ARP, so without the entry packets to that node's pods fail with EHOSTUNREACH (a FAILED or INCOMPLETE entry is what the kernel leaves after asking in vain).",
  message: (v) =>
    `Node "${v.node}" has no neighbour entry for ${v.overlayIp} (the overlay address of node "${v.peer}") on ${v.dev}${v.found === undefined ? "" : ` (only a ${v.found} one)`}: nothing answers ARP there, so pods of ${v.peer} are unreachable (EHOSTUNREACH)`,
  fix: (v) =>
    `ip neigh replace ${v.overlayIp} lladdr ${v.mac} dev ${v.dev} nud permanent on "${v.node}", or: ${restartFlannel(v.node)}`,
  references: [FLANNEL_VXLAN],
};

export const OVERLAY_NEIGHBOR_STALE: FindingEntry<OverlayNeighborValues> = {
  code: "overlay-neighbor-stale",
  severity: "error",
  title: "The neighbour entry of a peer has an old MAC",
  explanation:
    "The neighbour entry for a peer's overlay address holds another MAC than the VtepMAC the peer announces: the peer recreated its VXLAN device (new MAC) and this node kept the old entry. Frames go to a MAC no VTEP has and are dropped at the peer.",
  message: (v) =>
    `Node "${v.node}" resolves ${v.overlayIp} (node "${v.peer}") to ${v.found ?? "nothing"}, but that node's VtepMAC is ${v.mac}: frames go to a MAC no VTEP has`,
  fix: (v) =>
    `ip neigh replace ${v.overlayIp} lladdr ${v.mac} dev ${v.dev} nud permanent on "${v.node}", or: ${restartFlannel(v.node)}`,
  references: STALE,
};

export const OVERLAY_FDB_MISSING: FindingEntry<OverlayFdbValues> = {
  code: "overlay-fdb-missing",
  severity: "error",
  title: "No FDB entry for a peer's VtepMAC",
  explanation:
    "flannel maps each peer's VtepMAC to the peer's public IP in the VXLAN device's FDB. Without the entry the device has no remote to send the frame to and drops it: connections to that node's pods time out.",
  message: (v) =>
    `Node "${v.node}" has no FDB entry for ${v.mac} (VtepMAC of node "${v.peer}") on ${v.dev}: frames to that node are dropped`,
  fix: (v) =>
    `bridge fdb append ${v.mac} dev ${v.dev} dst ${v.publicIp} self permanent on "${v.node}", or: ${restartFlannel(v.node)}`,
  references: [FLANNEL_VXLAN],
};

export const OVERLAY_FDB_STALE: FindingEntry<OverlayFdbValues> = {
  code: "overlay-fdb-stale",
  severity: "error",
  title: "The FDB sends a peer's traffic with an old MAC or to an old address",
  explanation:
    "The FDB maps the peer's public IP only to MACs the peer no longer has (its VXLAN device was recreated), or maps its VtepMAC to another IP than its public-ip: encapsulated frames reach no VTEP that takes them.",
  message: (v) =>
    v.kind === "wrong-dst"
      ? `Node "${v.node}" sends VXLAN for ${v.mac} (node "${v.peer}") to ${v.found ?? "nowhere"}, but that node's public-ip is ${v.publicIp}`
      : `Node "${v.node}" sends VXLAN for ${v.publicIp} (node "${v.peer}") to MAC ${v.found ?? "?"}, but that node's VtepMAC is now ${v.mac}: no FDB entry for the new MAC`,
  fix: (v) =>
    `bridge fdb replace ${v.mac} dev ${v.dev} dst ${v.publicIp} self permanent on "${v.node}", or: ${restartFlannel(v.node)}`,
  references: STALE,
};

export const OVERLAY_VTEP_MISMATCH: FindingEntry<OverlayVtepMismatchValues> = {
  code: "overlay-vtep-mismatch",
  severity: "error",
  title: "The node's VXLAN device has another MAC than it announces",
  explanation:
    "Peers program the VtepMAC of the node's backend-data annotation; when the node's own device has another MAC, every frame sent to it is for a MAC it does not have and is dropped.",
  message: (v) =>
    `${v.dev} on node "${v.node}" has MAC ${v.deviceMac ?? "(none)"}, but its backend-data announces ${v.announced}: every peer sends this node's frames to the announced MAC, which no device has`,
  fix: (v) => `Restart flannel on "${v.node}" so it announces the device's MAC again`,
  references: ["flannel-io/flannel#1788"],
};

export const OVERLAY_DEVICE_MISSING: FindingEntry<OverlayDeviceMissingValues> = {
  code: "overlay-device-missing",
  severity: "error",
  title: "A VXLAN node without its VXLAN device",
  explanation:
    "The node's annotations say flannel runs the VXLAN backend, but the node has no VXLAN device with the lease's VNI, or it is down: nothing is encapsulated or decapsulated there.",
  message: (v) =>
    v.state === "missing"
      ? `Node "${v.node}" announces a VXLAN lease (backend-type vxlan) but has no VXLAN device ${v.dev}`
      : `${v.dev} on node "${v.node}" is down`,
  fix: (v) => restartFlannel(v.node),
  references: [FLANNEL_VXLAN],
};

export const OVERLAY_WRONG_INTERFACE: FindingEntry<OverlayWrongInterfaceValues> = {
  code: "overlay-wrong-interface",
  severity: "warning",
  title: "The VXLAN device is bound to another interface than the public-ip's",
  explanation:
    "flannel.1 sends from one interface while peers send to the node's public-ip on another (multi-NIC nodes, a public-ip set by hand). The path is asymmetric: strict rp_filter drops it (rp-filter-drop), and firewalls may.",
  message: (v) =>
    `${v.dev} on node "${v.node}" sends from ${v.local ?? "?"} on ${v.bound ?? "?"}, but peers send to its public-ip ${v.publicIp}, which is on ${v.holder}: the overlay path is asymmetric`,
  fix: (v) =>
    `Bind flannel to ${v.holder} (k3s: --flannel-iface ${v.holder}), or make the public-ip an address of ${v.bound ?? "the bound interface"}`,
  references: MULTI_NIC,
};

export const OVERLAY_PUBLIC_IP_DUPLICATE: FindingEntry<OverlayPublicIpDuplicateValues> = {
  code: "overlay-public-ip-duplicate",
  severity: "error",
  title: "Several nodes announce the same public-ip",
  explanation:
    "Typically a NAT interface with the same address on every VM (Vagrant) that holds the default route, which flannel picks without --flannel-iface: peers send VXLAN to an address they hold themselves, and it loops in the sender until the TTL runs out.",
  message: (v) =>
    `Nodes ${v.nodes.map((n) => `"${n}"`).join(", ")} all announce public-ip ${v.publicIp}: VXLAN traffic to it never reaches the right node`,
  fix: () =>
    "Bind flannel to the interface of the network the nodes share (k3s: --flannel-iface IFACE, or --node-ip / --node-external-ip)",
  references: ["k3s-io/k3s#1131", "k3s-io/k3s#1824", "k3s-io/k3s#10941"],
};

export const OVERLAY_MTU_MISMATCH: FindingEntry<OverlayMtuMismatchValues> = {
  code: "overlay-mtu-mismatch",
  severity: {
    rule: "error when an encapsulated packet does not fit an underlay link; warning for cni0 or subnet.env",
    of: (v) => (v.kind === "own" || v.kind === "peer" ? "error" : "warning"),
  },
  title: "Overlay and underlay MTUs disagree",
  explanation:
    "flannel sets the VXLAN device and FLANNEL_MTU to the underlay MTU minus 50 and gives cni0 and the pods that MTU. An encapsulated packet larger than an underlay link on the way is dropped on that link without ICMP: small packets pass, large ones hang.",
  message: (v) => {
    switch (v.kind) {
      case "own":
        return `${v.dev} on node "${v.node}" has MTU ${v.mtu}, but its underlay ${v.underlay} has ${v.underlayMtu}: encapsulated packets of ${v.mtu + 50} bytes do not fit (expected at most ${v.underlayMtu - 50})`;
      case "peer":
        return `Node "${v.node}" sends VXLAN packets of up to ${v.mtu + 50} bytes (${v.dev} MTU ${v.mtu} + 50), but node "${v.peer}" receives them on ${v.receiver} with MTU ${v.receiverMtu}: large packets to its pods are dropped without ICMP`;
      case "cni0":
        return `cni0 on node "${v.node}" has MTU ${v.cniMtu}, larger than ${v.dev} (${v.mtu}): pods send packets the overlay must refuse with ICMP "fragmentation needed", which breaks when that ICMP is filtered`;
      case "subnet-env":
        return `FLANNEL_MTU on node "${v.node}" is ${v.envMtu}, but ${v.dev} has MTU ${v.mtu}: pods created from subnet.env get a different MTU than the overlay`;
      default: {
        const never: never = v;
        throw new TypeError(`Unknown MTU finding ${String(never)}`);
      }
    }
  },
  fix: () =>
    "Set every node's overlay MTU to the smallest underlay MTU minus 50 (flannel derives it from its interface at start: restart flannel after changing a NIC's MTU)",
  references: [FLANNEL_VXLAN],
};
