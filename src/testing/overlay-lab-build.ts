/** Builds an {@linkcode OverlayLab} (topology and addresses: see overlay-lab.ts). */
import { type LabNodeState, OverlayLab, type OverlayLabSpec, wireLike } from "./overlay-lab.ts";
import { nsRun, run, setSysctl } from "./overlay-lab-ns.ts";

const LAB_NET = { base: (198 << 24) | (18 << 16), mask: 0xfffe0000 };

function inLabNet(ip: string): boolean {
  const p = ip.split(".").map(Number);
  const n = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  return p.length === 4 && (n & LAB_NET.mask) >>> 0 === LAB_NET.base >>> 0;
}

/** Node-wide settings: forwarding on, rp_filter off (cases change them), no ICMP rate limit. */
function tuneNode(ns: string): void {
  for (const [k, v] of [
    ["net.ipv4.ip_forward", 1],
    ["net.ipv4.conf.all.rp_filter", 0],
    ["net.ipv4.conf.default.rp_filter", 0],
    ["net.ipv4.icmp_ratelimit", 0],
    ["net.ipv4.icmp_msgs_per_sec", 100000],
  ] as const) {
    setSysctl(ns, k, v);
  }
}

function uplink(lab: OverlayLab, node: LabNodeState, dev: string, bridge: string, ip: string): void {
  const peer = `${dev}-${node.spec.index}`;
  run([
    "ip",
    "link",
    "add",
    dev,
    "netns",
    node.ns,
    "type",
    "veth",
    "peer",
    "name",
    peer,
    "netns",
    lab.underlay,
  ]);
  nsRun(lab.underlay, ["ip", "link", "set", peer, "master", bridge, "up"]);
  wireLike(lab.underlay, peer);
  nsRun(node.ns, ["ip", "addr", "add", `${ip}/24`, "dev", dev]);
  nsRun(node.ns, ["ip", "link", "set", dev, "up"]);
  wireLike(node.ns, dev);
}

/** A Vagrant-style NAT NIC: its own namespace with 198.19.253.2, the node's default route. */
function natNic(lab: OverlayLab, node: LabNodeState): void {
  const nat = lab.namespace();
  run(["ip", "link", "add", "nat0", "netns", node.ns, "type", "veth", "peer", "name", "eth0", "netns", nat]);
  nsRun(nat, ["ip", "addr", "add", "198.19.253.2/24", "dev", "eth0"]);
  nsRun(nat, ["ip", "link", "set", "eth0", "up"]);
  nsRun(node.ns, ["ip", "addr", "add", "198.19.253.15/24", "dev", "nat0"]);
  nsRun(node.ns, ["ip", "link", "set", "nat0", "up"]);
  nsRun(node.ns, ["ip", "route", "add", "default", "via", "198.19.253.2", "dev", "nat0"]);
}

/**
 * Creates the namespaces, links, flannel.1 devices, flannel's entries for every peer and the pods.
 * Throws (after cleaning up) when an address is outside 198.18.0.0/15 or the kernel refuses a step.
 */
export async function createOverlayLab(spec: OverlayLabSpec): Promise<OverlayLab> {
  for (const n of spec.nodes) {
    if (!Number.isInteger(n.index) || n.index < 1 || n.index > 9) {
      throw new RangeError(`Cannot use node index ${n.index}: expected 1..9`);
    }
    for (const ip of [...n.pods.map((p) => p.ip), ...(n.publicIp === undefined ? [] : [n.publicIp])]) {
      if (!inLabNet(ip))
        throw new RangeError(`Cannot use address "${ip}" in the overlay lab: only 198.18.0.0/15`);
    }
  }
  const lab = new OverlayLab(spec.area ?? "ovl");
  try {
    lab.underlay = lab.namespace();
    for (const br of ["br0", "br1"]) {
      nsRun(lab.underlay, ["ip", "link", "add", br, "type", "bridge"]);
      nsRun(lab.underlay, ["ip", "link", "set", br, "up"]);
    }
    for (const n of spec.nodes) {
      const ns = lab.namespace();
      const state: LabNodeState = {
        spec: n,
        ns,
        podCidr: `198.18.${n.index}.0/24`,
        overlayIp: `198.18.${n.index}.0`,
        eth0Ip: `198.19.255.${10 + n.index}`,
        publicIp: "",
        vtepMac: "",
        flannelMtu: 0,
      };
      lab.nodes.set(n.name, state);
      tuneNode(ns);
      uplink(lab, state, "eth0", "br0", state.eth0Ip);
      if (n.secondNic) uplink(lab, state, "eth1", "br1", `198.19.254.${10 + n.index}`);
      if (n.natNic) natNic(lab, state);
      nsRun(ns, ["ip", "link", "add", "cni0", "type", "bridge"]);
      nsRun(ns, ["ip", "addr", "add", `198.18.${n.index}.1/24`, "dev", "cni0"]);
      nsRun(ns, ["ip", "link", "set", "cni0", "up"]);
      // ARP for a pod that is gone should fail fast (the kernel default is 3 probes 1 s apart).
      setSysctl(ns, "net.ipv4.neigh.cni0.retrans_time_ms", 100);
      lab.createVtep(n.name);
      // flannel's CNI config gives the bridge and the pods the overlay MTU (FLANNEL_MTU).
      nsRun(ns, ["ip", "link", "set", "cni0", "mtu", String(1500 - 50)]);
      // An empty ruleset, so every node has tables (and conntrack) like a real node.
      nsRun(
        ns,
        ["iptables-nft-restore"],
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n",
      );
    }
    for (const n of spec.nodes) lab.programPeers(n.name);
    for (const n of spec.nodes) for (const p of n.pods) await lab.addPod(n.name, p);
    return lab;
  } catch (error) {
    await lab.destroy().catch(() => {});
    throw error;
  }
}
