/** The overlay lab's cases about flannel's own state: routes, neighbours, FDB, VTEPs, interfaces, MTU. */
import { A1, A2, ASYMMETRIC, defaultNodes, type LabCase, sysctl, toB, toC } from "./overlay-lab-case-kit.ts";

export const OVERLAY_CASES: readonly LabCase[] = [
  {
    name: "healthy",
    what: "three nodes as flannel sets them up: every pod reaches every pod",
    probes: [
      { ...toB, expect: "answer b1" },
      { ...toB, protocol: "udp", dstPort: 53, expect: "answer b1" },
      { ...toC, expect: "answer c1" },
      { ...toB, payload: 4000, expect: "answer b1" },
      { from: "a1", protocol: "tcp", dstIp: A2, dstPort: 8080, expect: "answer a2" },
      { from: "b1", protocol: "tcp", dstIp: A1, dstPort: 8080, expect: "answer a1" },
    ],
    findings: [],
  },
  {
    name: "route-missing",
    what: "node-a lost its route to node-b's pod CIDR",
    breakIt: (lab) => void lab.exec("node-a", ["ip", "route", "del", "198.18.2.0/24"]),
    probes: [
      { ...toB, expect: "error ENETUNREACH", failsAt: "node-a" },
      { ...toB, protocol: "udp", dstPort: 53, expect: "timeout", failsAt: "node-a" },
      { ...toC, expect: "answer c1" },
    ],
    findings: ["overlay-route-missing@node-a"],
    evidence: { "overlay-route-missing@node-a": [/nodes\/node-a\/ip-route\.json/, /cluster\/nodes\.json/] },
  },
  {
    name: "neighbor-missing",
    what: "node-a lost the neighbour entry for node-b's overlay address",
    breakIt: (lab) => void lab.exec("node-a", ["ip", "neigh", "del", "198.18.2.0", "dev", "flannel.1"]),
    probes: [
      { ...toB, expect: "error EHOSTUNREACH", failsAt: "node-a" },
      { ...toC, expect: "answer c1" },
    ],
    findings: ["overlay-neighbor-missing@node-a"],
    evidence: {
      "overlay-neighbor-missing@node-a": [/nodes\/node-a\/ip-neigh\.json/, /cluster\/nodes\.json/],
    },
  },
  {
    name: "fdb-missing",
    what: "node-a lost the FDB entry for node-b's VtepMAC",
    breakIt: (lab) => {
      const b = lab.node("node-b");
      lab.exec("node-a", ["bridge", "fdb", "del", b.vtepMac, "dev", "flannel.1", "dst", b.publicIp, "self"]);
    },
    probes: [
      { ...toB, expect: "timeout", failsAt: "node-a" },
      { ...toC, expect: "answer c1" },
    ],
    findings: ["overlay-fdb-missing@node-a"],
    evidence: { "overlay-fdb-missing@node-a": [/nodes\/node-a\/bridge-fdb\.json/, /cluster\/nodes\.json/] },
  },
  {
    name: "vtep-mac-changed",
    what: "node-b's flannel.1 was recreated with a new MAC; node-a and node-c keep the old one (stale FDB and neighbour)",
    breakIt: (lab) => lab.recreateVtep("node-b"),
    probes: [
      { ...toB, expect: "timeout", failsAt: "node-b" },
      { ...toC, expect: "answer c1" },
    ],
    findings: [
      "overlay-fdb-stale@node-a",
      "overlay-neighbor-stale@node-a",
      "overlay-fdb-stale@node-c",
      "overlay-neighbor-stale@node-c",
    ],
    evidence: {
      "overlay-fdb-stale@node-a": [
        /nodes\/node-a\/bridge-fdb\.json/,
        /cluster\/nodes\.json/,
        /nodes\/node-b\/ip-link\.json/,
      ],
      "overlay-neighbor-stale@node-a": [/nodes\/node-a\/ip-neigh\.json/, /nodes\/node-b\/ip-link\.json/],
    },
  },
  {
    name: "nat-interface",
    what: "every node has a Vagrant-style NAT NIC with the same address and the default route; flannel binds to it, so VXLAN to a peer loops back into the sender until the TTL runs out",
    nodes: defaultNodes(
      Object.fromEntries(
        ["node-a", "node-b", "node-c"].map((n) => [n, { natNic: true, flannelIface: "nat0" as const }]),
      ),
    ),
    probes: [
      { ...toB, expect: "error EHOSTUNREACH", failsAt: "node-a" },
      { ...toB, protocol: "udp", dstPort: 53, expect: "timeout", failsAt: "node-a" },
    ],
    findings: [
      "overlay-public-ip-duplicate@node-a",
      "overlay-public-ip-duplicate@node-b",
      "overlay-public-ip-duplicate@node-c",
    ],
    evidence: {
      "overlay-public-ip-duplicate@node-a": [/cluster\/nodes\.json/, /nodes\/node-a\/ip-addr\.json/],
    },
  },
  {
    name: "asymmetric-rp-strict",
    what: "node-b's public-ip is on eth1 but flannel.1 sends from eth0; rp_filter=1 on node-b drops the VXLAN packets",
    nodes: ASYMMETRIC,
    breakIt: (lab) => sysctl(lab, "node-b", "net.ipv4.conf.all.rp_filter", 1),
    probes: [
      { ...toB, expect: "timeout", failsAt: "node-b" },
      { ...toC, expect: "answer c1" },
    ],
    findings: ["overlay-wrong-interface@node-b", "rp-filter-drop@node-b"],
    evidence: {
      "rp-filter-drop@node-b": [
        /nodes\/node-b\/sysctl\.txt/,
        /nodes\/node-b\/ip-route\.json/,
        /cluster\/nodes\.json/,
      ],
    },
  },
  {
    name: "asymmetric-rp-loose",
    what: "the same asymmetric path with rp_filter=0 works (the binding is still reported)",
    nodes: ASYMMETRIC,
    probes: [{ ...toB, expect: "answer b1" }],
    findings: ["overlay-wrong-interface@node-b"],
  },
  {
    name: "mtu-mismatch",
    what: "node-b's NIC MTU was lowered to 1400 after flannel started: small packets pass, full-size ones (DF) vanish",
    breakIt: (lab) => void lab.exec("node-b", ["ip", "link", "set", "eth0", "mtu", "1400"]),
    probes: [
      { ...toB, expect: "answer b1" },
      { ...toB, payload: 4000, expect: "timeout", failsAt: "node-b", timeoutMs: 2500 },
    ],
    findings: ["overlay-mtu-mismatch@node-a", "overlay-mtu-mismatch@node-b", "overlay-mtu-mismatch@node-c"],
    evidence: {
      "overlay-mtu-mismatch@node-a": [/nodes\/node-a\/ip-link\.json/, /nodes\/node-b\/ip-link\.json/],
    },
  },
];
