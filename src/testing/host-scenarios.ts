/**
 * Hand-written whole-host rulesets for the kernel suite of trace-host.ts: native nft tables,
 * iptables-nft tables and legacy xtables tables on the same hooks, in the oracle topology (node
 * 198.18.0.1, pods 198.18.1.2/.3, endpoints ep1..ep3 198.18.2.1-3, the world in 198.19.0.0/16).
 */
import type { HostScenario } from "./host-oracle.ts";

const POD = { from: "pod" } as const;
const NODE = { from: "node" } as const;

/** kube-proxy-like DNAT in iptables-nft's nat table, a firewalld-like reject in a native table. */
export const dnatThenFirewall: HostScenario = {
  name: "iptables-nft DNAT, then a native firewall",
  shows: "the native table sees the DNATed destination; an iptables-nft ACCEPT does not stop its reject",
  nft: `
table inet firewalld {
  chain filter_FORWARD {
    type filter hook forward priority filter + 10; policy accept;
    ct state { established, related } accept
    ip daddr 198.18.2.1 tcp dport 8080 accept
    reject with icmpx admin-prohibited
  }
}`,
  iptablesNft: `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 198.19.100.1/32 -p tcp -m comment --comment "ns/a cluster IP" -m tcp --dport 80 -j DNAT --to-destination 198.18.2.1:8080
-A KUBE-SERVICES -d 198.19.100.2/32 -p tcp -m comment --comment "ns/b cluster IP" -m tcp --dport 80 -j DNAT --to-destination 198.18.2.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate DNAT -m comment --comment "kube-proxy forward" -j ACCEPT
COMMIT
`,
  probes: [
    { ...POD, dstIp: "198.19.100.1", dstPort: 80 },
    { ...POD, dstIp: "198.19.100.2", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 80 },
    { ...NODE, dstIp: "198.19.100.2", dstPort: 80 },
  ],
};

/** Legacy xtables next to nf_tables: a legacy DNAT, a legacy DROP, a native drop. */
export const legacyBeside: HostScenario = {
  name: "legacy xtables beside native nft",
  shows: "legacy nat and filter tables run at their priorities between native chains; a legacy DROP is final",
  nft: `
table ip hostfw {
  chain fw { type filter hook forward priority 10; policy accept;
    ip daddr 198.18.2.3 tcp dport 443 drop
  }
  chain out { type filter hook output priority 10; policy accept;
    ip daddr 198.18.2.2 tcp dport 8080 reject with tcp reset
  }
}`,
  legacy: `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 198.19.100.3/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 198.18.2.3:443
-A PREROUTING -d 198.19.100.4/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 198.18.2.2:443
-A OUTPUT -d 198.19.100.5/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.18.2.2:8080
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 198.18.2.1/32 -p tcp -m tcp --dport 80 -j DROP
COMMIT
`,
  probes: [
    { ...POD, dstIp: "198.19.100.3", dstPort: 443 },
    { ...POD, dstIp: "198.19.100.4", dstPort: 443 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 443 },
    { ...NODE, dstIp: "198.19.100.5", dstPort: 80 },
  ],
};

/** A ufw-like iptables-nft filter table (DROP policies, ufw chains) beside an accepting native table. */
export const ufwLike: HostScenario = {
  name: "ufw-like iptables-nft chains",
  shows:
    "ufw's DROP policy and its user chains decide from iptables-save; a native accept does not save the packet",
  nft: `
table inet allow {
  chain fw { type filter hook forward priority -10; policy accept;
    ip saddr 198.18.1.0/24 accept
  }
}`,
  iptablesNft: `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:ufw-before-forward - [0:0]
:ufw-user-forward - [0:0]
-A FORWARD -j ufw-before-forward
-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-forward -j ufw-user-forward
-A ufw-user-forward -d 198.18.2.2/32 -p tcp -m multiport --dports 80,443 -j ACCEPT
COMMIT
`,
  probes: [
    { ...POD, dstIp: "198.18.2.2", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.2", dstPort: 8080 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 443 },
  ],
};

export const HOST_SCENARIOS: readonly HostScenario[] = [dnatThenFirewall, legacyBeside, ufwLike];
