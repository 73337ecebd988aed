/**
 * Hand-written rulesets that pin down netfilter's own rules: priorities across tables, where NAT and
 * conntrack really run, NAT statements, equal priorities, devices per hook, NAT without conntrack.
 * Topology: see nft-scenarios.ts.
 */
import type { NftScenario } from "./nft-scenarios.ts";

const POD = { from: "pod" } as const;
const POD2 = { from: "pod2" } as const;
const NODE = { from: "node" } as const;

/** Several tables on one hook, priorities interleaved; an accept in one table, a drop in another. */
export const interleaved: NftScenario = {
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
export const hookFacts: NftScenario = {
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
export const natVariety: NftScenario = {
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

/** Two base chains with the same priority: which runs first? */
export const ties: NftScenario = {
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
export const devices: NftScenario = {
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
export const noConntrack: NftScenario = {
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
