/** The overlay lab's cases about the nodes: forwarding, firewalls, conntrack, br_netfilter. */
import {
  A2,
  C1,
  DNS,
  defaultNodes,
  FILTER,
  iptables,
  type LabCase,
  NAT,
  sysctl,
  toB,
  toC,
  WEB,
} from "./overlay-lab-case-kit.ts";

export const NODE_CASES: readonly LabCase[] = [
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
