/**
 * Hand-written rulesets of the software a node really runs: firewalld's and ufw's shapes, kube-proxy's
 * nftables mode, iptables-nft next to native nft. Topology: see nft-scenarios.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NftScenario } from "./nft-scenarios.ts";
import { NFT_TESTDATA } from "./nft-testdata.ts";

const POD = { from: "pod" } as const;
const POD2 = { from: "pod2" } as const;
const NODE = { from: "node" } as const;

/** firewalld's nftables backend, reduced: zones by source, reject with icmpx admin-prohibited. */
export const firewalld: NftScenario = {
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
export const ufw: NftScenario = {
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

export const kubeProxy: NftScenario = {
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

/** iptables-nft's filter table beside a native table on the same hook. */
export const mixed: NftScenario = {
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
