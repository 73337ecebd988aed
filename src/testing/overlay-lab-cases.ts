/**
 * The overlay lab's cases: a healthy three-node cluster and each way issue 17 lists of breaking
 * the path across nodes. Every case states the real outcome its probes must see (so a breakage that
 * did not take effect fails the test) and the findings (code@node) the checks must report.
 */
import type { OverlayLab, OverlayLabNode } from "./overlay-lab.ts";
import type { LabService } from "./overlay-lab-bundle.ts";
import type { LabQuestion } from "./overlay-lab-verdict.ts";

export interface LabCaseProbe extends LabQuestion {
  /** The outcome the kernel gives: `answer POD`, `error ERRNO` or `timeout`. */
  readonly expect: string;
  /** For a failing probe: the node where netdoctor must place the failure. */
  readonly failsAt?: string;
  readonly timeoutMs?: number;
}

export interface LabCase {
  readonly name: string;
  readonly what: string;
  readonly nodes?: readonly OverlayLabNode[];
  readonly services?: readonly LabService[];
  /** Applied after the lab is built, before the probes. */
  readonly breakIt?: (lab: OverlayLab) => Promise<void> | void;
  /** Probes run in order; `change` runs after them and before the `after` probes (e.g. a pod replaced). */
  readonly probes: readonly LabCaseProbe[];
  readonly change?: (lab: OverlayLab) => Promise<void> | void;
  readonly after?: readonly LabCaseProbe[];
  /** Findings of severity error or warning, as `code@node`; the healthy case expects none at all. */
  readonly findings: readonly string[];
  /** For each expected finding, the bundle files its evidence must name (regex on the file path). */
  readonly evidence?: Readonly<Record<string, readonly RegExp[]>>;
}

const A1 = "198.18.1.10";
const A2 = "198.18.1.11";
const B1 = "198.18.2.10";
const C1 = "198.18.3.10";

/** The default cluster: node-a (a1, a2), node-b (b1), node-c (c1). */
export function defaultNodes(
  overrides: Partial<Record<string, Partial<OverlayLabNode>>> = {},
): OverlayLabNode[] {
  const base: OverlayLabNode[] = [
    {
      name: "node-a",
      index: 1,
      pods: [
        { name: "a1", ip: A1, tcpPorts: [8080], udpPorts: [53] },
        { name: "a2", ip: A2, tcpPorts: [8080] },
      ],
    },
    { name: "node-b", index: 2, pods: [{ name: "b1", ip: B1, tcpPorts: [8080], udpPorts: [53] }] },
    { name: "node-c", index: 3, pods: [{ name: "c1", ip: C1, tcpPorts: [8080], udpPorts: [53] }] },
  ];
  return base.map((n) => ({ ...n, ...(overrides[n.name] ?? {}) }));
}

const toB = { from: "a1", protocol: "tcp", dstIp: B1, dstPort: 8080 } as const;
const toC = { from: "a1", protocol: "tcp", dstIp: C1, dstPort: 8080 } as const;

function iptables(lab: OverlayLab, node: string, text: string): void {
  lab.exec(node, ["iptables-nft-restore"], text);
}

const FILTER = (rules: string, policy = "ACCEPT") =>
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules}COMMIT\n`;
const NAT = (rules: string) =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rules}COMMIT\n`;

const DNS: LabService = {
  namespace: "kube-system",
  name: "kube-dns",
  clusterIP: "198.19.0.10",
  port: 53,
  protocol: "UDP",
  targetPort: 53,
  endpoints: ["coredns-old"],
};
const WEB: LabService = {
  namespace: "default",
  name: "web",
  clusterIP: "198.19.0.20",
  port: 80,
  protocol: "TCP",
  targetPort: 8080,
  endpoints: ["a2"],
};

function sysctl(lab: OverlayLab, node: string, key: string, value: number): void {
  lab.exec(node, [
    "sh",
    "-c",
    `echo ${value} > /proc/sys/${key
      .split(".")
      .map((p) => p.replaceAll("/", "."))
      .join("/")}`,
  ]);
}

/** Two underlays; node-b's public-ip is its eth1 address while flannel.1 stays on eth0. */
const ASYMMETRIC = defaultNodes({
  "node-a": { secondNic: true },
  "node-b": { secondNic: true, publicIp: "198.19.254.12" },
  "node-c": { secondNic: true },
});

export const LAB_CASES: readonly LabCase[] = [
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
    name: "ip-forward-off-receiver",
    what: "node-b does not forward: decapsulated packets for its pods go nowhere",
    breakIt: (lab) => sysctl(lab, "node-b", "net.ipv4.ip_forward", 0),
    probes: [
      { ...toB, expect: "timeout", failsAt: "node-b" },
      { ...toC, expect: "answer c1" },
    ],
    findings: ["ip-forward-disabled@node-b"],
    evidence: { "ip-forward-disabled@node-b": [/nodes\/node-b\/sysctl\.txt/] },
  },
  {
    name: "ip-forward-off-sender",
    what: "node-a does not forward: its pods reach only pods on the same bridge",
    breakIt: (lab) => sysctl(lab, "node-a", "net.ipv4.ip_forward", 0),
    probes: [
      { ...toB, expect: "timeout", failsAt: "node-a" },
      { from: "a1", protocol: "tcp", dstIp: A2, dstPort: 8080, expect: "answer a2" },
    ],
    findings: ["ip-forward-disabled@node-a"],
  },
  {
    name: "forward-drop",
    what: "node-b's FORWARD policy is DROP (a host firewall)",
    breakIt: (lab) => iptables(lab, "node-b", FILTER("", "DROP")),
    probes: [
      { ...toB, expect: "timeout", failsAt: "node-b" },
      { ...toC, expect: "answer c1" },
    ],
    findings: [],
  },
  {
    name: "vxlan-port-blocked",
    what: "node-b's INPUT drops UDP 8472",
    breakIt: (lab) => iptables(lab, "node-b", FILTER("-A INPUT -p udp -m udp --dport 8472 -j DROP\n")),
    probes: [
      { ...toB, expect: "timeout", failsAt: "node-b" },
      { ...toC, expect: "answer c1" },
    ],
    findings: [],
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
  {
    name: "stale-conntrack-dns",
    what: "CoreDNS is replaced; a client that keeps its UDP source port keeps going to the dead pod IP",
    nodes: defaultNodes({
      "node-c": {
        pods: [{ name: "coredns-old", namespace: "kube-system", ip: C1, udpPorts: [53] }],
      },
    }),
    services: [DNS],
    breakIt: (lab) =>
      iptables(
        lab,
        "node-a",
        NAT(
          "-A PREROUTING -d 198.19.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 198.18.3.10:53\n",
        ),
      ),
    probes: [
      {
        from: "a1",
        protocol: "udp",
        dstIp: "198.19.0.10",
        dstPort: 53,
        srcPort: 40053,
        expect: "answer coredns-old",
      },
    ],
    change: async (lab) => {
      await lab.removePod("coredns-old");
      await lab.addPod("node-c", {
        name: "coredns-new",
        namespace: "kube-system",
        ip: "198.18.3.11",
        udpPorts: [53],
      });
      iptables(
        lab,
        "node-a",
        NAT(
          "-A PREROUTING -d 198.19.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 198.18.3.11:53\n",
        ),
      );
    },
    after: [
      {
        from: "a1",
        protocol: "udp",
        dstIp: "198.19.0.10",
        dstPort: 53,
        srcPort: 40053,
        expect: "timeout",
        failsAt: "node-c",
      },
      {
        from: "a1",
        protocol: "udp",
        dstIp: "198.19.0.10",
        dstPort: 53,
        srcPort: 40054,
        expect: "answer coredns-new",
      },
    ],
    findings: ["conntrack-stale-endpoint@node-a"],
    evidence: {
      "conntrack-stale-endpoint@node-a": [/nodes\/node-a\/conntrack\.txt/, /cluster\/services\.json/],
    },
  },
  {
    name: "hairpin-bridge-nf-off",
    what: "a pod reaches a Service whose endpoint is on its own node and bridge, without br_netfilter",
    services: [WEB],
    breakIt: (lab) => {
      iptables(
        lab,
        "node-a",
        NAT(
          "-A PREROUTING -d 198.19.0.20/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.18.1.11:8080\n",
        ),
      );
      sysctl(lab, "node-a", "net.bridge.bridge-nf-call-iptables", 0);
    },
    probes: [
      {
        from: "a1",
        protocol: "tcp",
        dstIp: "198.19.0.20",
        dstPort: 80,
        expect: "timeout",
        failsAt: "node-a",
      },
    ],
    findings: ["bridge-nf-disabled@node-a"],
    evidence: { "bridge-nf-disabled@node-a": [/nodes\/node-a\/sysctl\.txt/] },
  },
  {
    name: "hairpin-bridge-nf-on",
    what: "the same Service connection with br_netfilter on works",
    services: [WEB],
    breakIt: (lab) =>
      iptables(
        lab,
        "node-a",
        NAT(
          "-A PREROUTING -d 198.19.0.20/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.18.1.11:8080\n",
        ),
      ),
    probes: [{ from: "a1", protocol: "tcp", dstIp: "198.19.0.20", dstPort: 80, expect: "answer a2" }],
    findings: [],
  },
];
