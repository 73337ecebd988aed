/**
 * Hand-written nftables rulesets for the kernel suite, in the oracle topology of trace-oracle.ts:
 * node 198.18.0.1 (listens on 80, 443, 8080, 30080), pods 198.18.1.2 (`pod`) and 198.18.1.3 (`pod2`),
 * endpoints ep1..ep3 198.18.2.1-3 (TCP 80, 443, 8080, 30080; UDP 53), everything else in
 * 198.19.0.0/16 answered by the `world` namespace. Each scenario says what it shows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NftProbe } from "./nft-oracle.ts";
import { NFT_TESTDATA } from "./nft-testdata.ts";

export interface NftScenario {
  readonly name: string;
  /** What the kernel must agree with. */
  readonly shows: string;
  readonly ruleset: string;
  /** Loaded with iptables-nft-restore --noflush after the nft ruleset. */
  readonly iptablesNft?: string;
  readonly probes: readonly NftProbe[];
}

const POD = { from: "pod" } as const;
const POD2 = { from: "pod2" } as const;
const NODE = { from: "node" } as const;

/** firewalld's nftables backend, reduced: zones by source, reject with icmpx admin-prohibited. */
const firewalld: NftScenario = {
  name: "firewalld-like inet firewalld",
  shows: "zone dispatch by goto, the final reject's errno, accept of an allowed forward",
  ruleset: `
table inet firewalld {
  chain filter_INPUT {
    type filter hook input priority filter + 10; policy accept;
    ct state { established, related } accept
    ct status dnat accept
    iifname "lo" accept
    jump filter_INPUT_ZONES
    ct state { invalid } drop
    reject with icmpx admin-prohibited
  }
  chain filter_FORWARD {
    type filter hook forward priority filter + 10; policy accept;
    ct state { established, related } accept
    ct status dnat accept
    iifname "lo" accept
    ip daddr 198.18.2.1 tcp dport 8080 accept
    reject with icmpx admin-prohibited
  }
  chain filter_INPUT_ZONES {
    ip saddr 198.18.1.3 goto filter_IN_trusted
    goto filter_IN_public
  }
  chain filter_IN_public {
    meta l4proto tcp tcp dport { 443, 30000-32767 } accept
    udp dport 53 accept
  }
  chain filter_IN_trusted {
    accept
  }
}`,
  probes: [
    { ...POD, dstIp: "198.18.0.1", dstPort: 443 },
    { ...POD, dstIp: "198.18.0.1", dstPort: 30080 },
    { ...POD, dstIp: "198.18.0.1", dstPort: 80 },
    { ...POD2, dstIp: "198.18.0.1", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 8080 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.10", dstPort: 80 },
    { ...POD, protocol: "udp", dstIp: "198.18.2.2", dstPort: 53 },
    { ...NODE, dstIp: "198.18.2.1", dstPort: 80 },
  ],
};

/** ufw's shape: DROP policies, user chains that accept a few ports and hosts. */
const ufw: NftScenario = {
  name: "ufw-like DROP policy",
  shows: "a policy drop at input and forward after jumps that return without a verdict",
  ruleset: `
table ip ufw {
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    ct state related,established accept
    jump ufw-user-input
  }
  chain ufw-user-input {
    tcp dport 443 accept
    udp dport 53 accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state related,established accept
    jump ufw-user-forward
  }
  chain ufw-user-forward {
    ip daddr 198.18.2.2 accept
    ip daddr 198.19.0.0/16 tcp dport != 443 return
    ip daddr 198.19.0.0/16 accept
  }
}`,
  probes: [
    { ...POD, dstIp: "198.18.0.1", dstPort: 443 },
    { ...POD, dstIp: "198.18.0.1", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.2", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.10", dstPort: 443 },
    { ...POD, dstIp: "198.19.0.10", dstPort: 80 },
    { ...POD, protocol: "udp", dstIp: "198.18.2.1", dstPort: 53 },
    { ...NODE, dstIp: "198.18.2.1", dstPort: 80 },
  ],
};

/**
 * kube-proxy nftables mode: testdata/nft/kube-proxy-lab.nft, the ruleset of the lab cluster
 * testdata/nft/kube-proxy-lab/ in the shape kube-proxy writes (pod CIDR 198.18.1.0/24, service CIDR
 * 198.19.100.0/24, node 198.18.0.1); the reconciler's tests use the same files.
 */
export const KUBE_PROXY_LAB_RULESET = readFileSync(join(NFT_TESTDATA, "kube-proxy-lab.nft"), "utf8");

const kubeProxy: NftScenario = {
  name: "kube-proxy nftables mode",
  shows:
    "service-ips dispatch, numgen mod 3, no-endpoint reject (refused), cluster-ips-check, firewall-ips, NodePort with masquerade, Local policy short-circuits",
  ruleset: KUBE_PROXY_LAB_RULESET,
  probes: [
    { ...POD, dstIp: "198.19.100.1", dstPort: 80 },
    { ...POD, dstIp: "198.19.100.2", dstPort: 80 },
    { ...POD, dstIp: "198.19.100.3", dstPort: 80 },
    { ...POD, dstIp: "198.19.100.1", dstPort: 81 },
    { ...POD, dstIp: "198.19.100.99", dstPort: 80 },
    { ...POD, dstIp: "198.19.100.50", dstPort: 80 },
    { ...POD, dstIp: "198.19.100.60", dstPort: 80 },
    { ...POD, dstIp: "198.18.0.1", dstPort: 30080 },
    { ...POD, dstIp: "198.18.0.1", dstPort: 30081 },
    { ...NODE, dstIp: "198.18.0.1", dstPort: 30080 },
    { ...NODE, dstIp: "198.19.100.2", dstPort: 80 },
    { ...NODE, dstIp: "198.19.100.50", dstPort: 80 },
    { ...NODE, dstIp: "198.19.100.3", dstPort: 80 },
    { ...POD, dstIp: "198.19.100.5", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.10", dstPort: 80 },
  ],
};

/** Several tables on one hook, priorities interleaved; an accept in one table, a drop in another. */
const interleaved: NftScenario = {
  name: "interleaved priorities across tables",
  shows:
    "accept ends only its base chain; a later table's drop is final; marks flow between tables in priority order",
  ruleset: `
table inet early {
  chain fw { type filter hook forward priority -10; policy accept;
    tcp dport 80 accept
    ip daddr 198.18.2.3 meta mark set 0x10
  }
}
table ip late {
  chain fw { type filter hook forward priority 10; policy accept;
    tcp dport 80 drop
    meta mark 0x10 reject with icmp host-prohibited
    meta mark 0x20 drop
  }
}
table ip middle {
  chain fw { type filter hook forward priority 0; policy accept;
    ip daddr 198.18.2.3 tcp dport 443 meta mark set 0x20
  }
}
table ip mangle-like {
  chain pre { type filter hook prerouting priority -150; policy accept;
    ip daddr 198.19.0.20 accept
  }
}
table ip drops-pre {
  chain pre { type filter hook prerouting priority -140; policy accept;
    ip daddr 198.19.0.20 tcp dport 8080 drop
  }
}`,
  probes: [
    { ...POD, dstIp: "198.18.2.1", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 443 },
    { ...POD, dstIp: "198.18.2.3", dstPort: 8080 },
    { ...POD, dstIp: "198.18.2.3", dstPort: 443 },
    { ...POD, dstIp: "198.19.0.20", dstPort: 8080 },
    { ...POD, dstIp: "198.19.0.20", dstPort: 443 },
  ],
};

/** Where NAT chains and conntrack really run, and ties. */
const hookFacts: NftScenario = {
  name: "NAT core and conntrack positions",
  shows:
    "a NAT chain at -190 still runs at the NAT core's -100; chains before -200 see no conntrack (ct state invalid)",
  ruleset: `
table ip natfirst {
  chain pre { type nat hook prerouting priority -190; policy accept;
    ip daddr 198.19.0.30 tcp dport 80 dnat to 198.18.2.1:8080
  }
}
table ip filt {
  chain pre { type filter hook prerouting priority -150; policy accept;
    ip daddr 198.18.2.1 tcp dport 8080 drop
  }
  chain raw { type filter hook prerouting priority -300; policy accept;
    ip daddr 198.19.0.31 ct state invalid drop
    ip daddr 198.19.0.32 ct state new drop
  }
  chain aftertrack { type filter hook prerouting priority -190; policy accept;
    ip daddr 198.19.0.33 ct state new drop
  }
}`,
  probes: [
    { ...POD, dstIp: "198.19.0.30", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 8080 },
    { ...POD, dstIp: "198.19.0.31", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.32", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.33", dstPort: 80 },
  ],
};

/** NAT variety: numgen-mapped dnat, sets with intervals and concatenations, redirect, snat, masquerade. */
const natVariety: NftScenario = {
  name: "NAT statements, maps and sets",
  shows:
    "dnat via numgen map, concatenated interval sets, redirect without an address (the kernel drops), snat and masquerade",
  ruleset: `
table inet natty {
  set allowed { type ipv4_addr . inet_service; flags interval; elements = { 198.18.1.0/24 . 8000-8100, 198.18.1.3 . 443 }; }
  map backends { type ipv4_addr : ipv4_addr; elements = { 198.19.0.40 : 198.18.2.3 }; }
  chain pre { type nat hook prerouting priority dstnat; policy accept;
    ip daddr 198.19.0.41 tcp dport 80 dnat ip to numgen inc mod 2 map { 0 : 198.18.2.1, 1 : 198.18.2.2 }
    ip daddr 198.19.0.40 dnat ip to ip daddr map @backends
    ip daddr 198.19.0.42 tcp dport 80 redirect to :8080
    ip daddr 198.19.0.43 tcp dport 80 dnat ip to 198.18.2.1:443
  }
  chain post { type nat hook postrouting priority srcnat; policy accept;
    ip daddr 198.18.2.2 snat ip to 198.18.0.1
    ip daddr 198.18.2.3 masquerade
  }
  chain fw { type filter hook forward priority filter; policy accept;
    ip daddr 198.19.0.44 ip saddr . tcp dport @allowed accept
    ip daddr 198.19.0.44 drop
  }
}`,
  probes: [
    { ...POD, dstIp: "198.19.0.41", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.40", dstPort: 8080 },
    { ...POD, dstIp: "198.19.0.42", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.43", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.44", dstPort: 8080 },
    { ...POD, dstIp: "198.19.0.44", dstPort: 443 },
    { ...POD2, dstIp: "198.19.0.44", dstPort: 443 },
    { ...NODE, dstIp: "198.19.0.42", dstPort: 80 },
  ],
};

/** iptables-nft's filter table beside a native table on the same hook. */
const mixed: NftScenario = {
  name: "iptables-nft and native tables on one hook",
  shows: "an ACCEPT in iptables-nft's filter table does not stop a native table's drop at a later priority",
  ruleset: `
table inet hostfw {
  chain fw { type filter hook forward priority 10; policy accept;
    tcp dport 80 drop
  }
}`,
  iptablesNft: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p tcp --dport 8080 -j DROP
-A FORWARD -d 198.18.2.2/32 -j ACCEPT
COMMIT
`,
  probes: [
    { ...POD, dstIp: "198.18.2.2", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.2", dstPort: 443 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 8080 },
  ],
};

/** Two base chains with the same priority: which runs first? */
const ties: NftScenario = {
  name: "equal priorities",
  shows: "of two base chains with the same priority, the one created later runs first",
  ruleset: `
table ip first {
  chain fw { type filter hook forward priority 0; policy accept;
    tcp dport 443 meta mark set 0x1
    meta mark 0x2 drop
  }
}
table ip second {
  chain fw { type filter hook forward priority 0; policy accept;
    meta mark 0x1 drop
    tcp dport 8080 meta mark set 0x2
  }
}`,
  probes: [
    { ...POD, dstIp: "198.18.2.1", dstPort: 443 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 8080 },
  ],
};

/** Which devices each hook sees, and a netdev ingress chain bound to one pod's interface. */
const devices: NftScenario = {
  name: "devices at each hook",
  shows:
    "postrouting knows a forwarded packet's input device and none for the node's own; prerouting has no output device; ingress is per device",
  ruleset: `
table ip devs {
  chain post { type filter hook postrouting priority 0; policy accept;
    tcp dport 80 iifname "nd-p0" drop
    tcp dport 443 iifname "nd-s*" drop
    tcp dport 8080 oifname "nd-s0" drop
  }
  chain pre { type filter hook prerouting priority 0; policy accept;
    oifname "nd-w" drop
    iifname "nd-p1" tcp dport 30080 drop
  }
  chain out { type filter hook output priority 0; policy accept;
    oifname "nd-s1" tcp dport 443 drop
  }
}
table netdev ing {
  chain p1 { type filter hook ingress device "nd-p1" priority 0; policy accept;
    tcp dport 443 drop
  }
  chain lo { type filter hook ingress device "lo" priority 0; policy accept;
    tcp dport 30080 drop
  }
  chain s2 { type filter hook egress device "nd-s2" priority 0; policy accept;
    tcp dport 443 drop
  }
}`,
  probes: [
    { ...POD, dstIp: "198.18.2.1", dstPort: 80 },
    { ...NODE, dstIp: "198.18.2.1", dstPort: 80 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 443 },
    { ...POD2, dstIp: "198.18.2.1", dstPort: 443 },
    { ...NODE, dstIp: "198.18.2.1", dstPort: 443 },
    { ...NODE, dstIp: "198.18.2.2", dstPort: 443 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 8080 },
    { ...NODE, dstIp: "198.18.2.1", dstPort: 8080 },
    { ...POD, dstIp: "198.18.2.1", dstPort: 30080 },
    { ...POD2, dstIp: "198.18.2.1", dstPort: 30080 },
    { ...POD, dstIp: "198.19.0.10", dstPort: 80 },
    { ...NODE, dstIp: "198.18.0.1", dstPort: 30080 },
    { ...POD, dstIp: "198.18.0.1", dstPort: 30080 },
    { ...POD, dstIp: "198.18.2.3", dstPort: 443 },
    { ...NODE, dstIp: "198.18.2.3", dstPort: 443 },
    { ...POD, dstIp: "198.18.2.3", dstPort: 80 },
  ],
};

/** A NAT chain without conntrack in the namespace never runs. */
const noConntrack: NftScenario = {
  name: "NAT chains without conntrack",
  shows:
    "when no rule needs conntrack the NAT core calls no NAT chain: its drop drops nothing, its mark is never set",
  ruleset: `
table ip quiet {
  chain pre { type nat hook prerouting priority -100; policy accept;
    ip daddr 198.19.0.50 drop
    ip daddr 198.19.0.51 meta mark set 0x1
  }
  chain fw { type filter hook forward priority 0; policy accept;
    meta mark 0x1 drop
  }
}`,
  probes: [
    { ...POD, dstIp: "198.19.0.50", dstPort: 80 },
    { ...POD, dstIp: "198.19.0.51", dstPort: 80 },
  ],
};

export const NFT_SCENARIOS: readonly NftScenario[] = [
  firewalld,
  ufw,
  kubeProxy,
  interleaved,
  hookFacts,
  natVariety,
  mixed,
  ties,
  devices,
  noConntrack,
];
