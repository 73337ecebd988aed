/**
 * A node with the k3s-io/k3s#3117 leak, for tests that run the exporter's container against real
 * iptables in a network namespace: kube-proxy's rules for two Services (one of them stale against
 * the API), 120 copies of kube-router's node-port rule and 60 of flannel's forward rule (the leak's
 * shape: `iptables -C` failed, so every sync appended again), a rule written with iptables-legacy
 * next to them (mixed backends), and a native nftables rule in iptables-nft's mangle table, which
 * makes iptables-nft-save hide that table (k3s-io/k3s#11493). Addresses are in 198.18.0.0/15.
 *
 * The expected values below are counted by hand from these lines, not by netdoctor.
 */
import { endpointChain, serviceChain } from "../kube-proxy/chain-names.ts";

const WEB = "shop/web:http";
const DNS = "kube-system/kube-dns:dns";
const webSvc = serviceChain("SVC", WEB, "tcp");
const webSepA = endpointChain(WEB, "tcp", "198.18.1.10", 8080);
const webSepB = endpointChain(WEB, "tcp", "198.18.2.10", 8080);
const dnsSvc = serviceChain("SVC", DNS, "udp");
const dnsSep = endpointChain(DNS, "udp", "198.18.1.2", 53);

const KUBE_ROUTER_LEAK =
  '-A KUBE-ROUTER-INPUT -p tcp -m addrtype --dst-type LOCAL -m comment --comment "allow LOCAL TCP traffic to node ports - LR7XO7NXDBGQJD2M" -m multiport --dports 30000:32767 -j RETURN';
const FLANNEL_LEAK = '-A FLANNEL-FWD -s 198.18.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT';

/** Loaded with iptables-nft-restore. */
export const NFT_RULES = [
  "*mangle",
  ":PREROUTING ACCEPT [0:0]",
  ":INPUT ACCEPT [0:0]",
  ":FORWARD ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  ":POSTROUTING ACCEPT [0:0]",
  ":KUBE-KUBELET-CANARY - [0:0]",
  "COMMIT",
  "*filter",
  ":INPUT ACCEPT [0:0]",
  ":FORWARD ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  ":KUBE-FORWARD - [0:0]",
  ":KUBE-SERVICES - [0:0]",
  ":KUBE-ROUTER-INPUT - [0:0]",
  ":FLANNEL-FWD - [0:0]",
  '-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
  '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
  '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
  '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  ...Array.from({ length: 120 }, () => KUBE_ROUTER_LEAK),
  ...Array.from({ length: 60 }, () => FLANNEL_LEAK),
  "COMMIT",
  "*nat",
  ":PREROUTING ACCEPT [0:0]",
  ":INPUT ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  ":POSTROUTING ACCEPT [0:0]",
  ":KUBE-MARK-MASQ - [0:0]",
  ":KUBE-NODEPORTS - [0:0]",
  ":KUBE-POSTROUTING - [0:0]",
  ":KUBE-SERVICES - [0:0]",
  `:${webSvc} - [0:0]`,
  `:${webSepA} - [0:0]`,
  `:${webSepB} - [0:0]`,
  `:${dnsSvc} - [0:0]`,
  `:${dnsSep} - [0:0]`,
  '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
  "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
  "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  `-A KUBE-SERVICES -d 198.19.10.10/32 -p tcp -m comment --comment "${WEB} cluster IP" -m tcp --dport 80 -j ${webSvc}`,
  `-A KUBE-SERVICES -d 198.19.0.10/32 -p udp -m comment --comment "${DNS} cluster IP" -m udp --dport 53 -j ${dnsSvc}`,
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  `-A ${webSvc} -m comment --comment "${WEB}" -m statistic --mode random --probability 0.50000000000 -j ${webSepA}`,
  `-A ${webSvc} -m comment --comment "${WEB}" -j ${webSepB}`,
  `-A ${webSepA} -s 198.18.1.10/32 -m comment --comment "${WEB}" -j KUBE-MARK-MASQ`,
  `-A ${webSepA} -p tcp -m comment --comment "${WEB}" -m tcp -j DNAT --to-destination 198.18.1.10:8080`,
  `-A ${webSepB} -s 198.18.2.10/32 -m comment --comment "${WEB}" -j KUBE-MARK-MASQ`,
  `-A ${webSepB} -p tcp -m comment --comment "${WEB}" -m tcp -j DNAT --to-destination 198.18.2.10:8080`,
  `-A ${dnsSvc} -m comment --comment "${DNS}" -j ${dnsSep}`,
  `-A ${dnsSep} -s 198.18.1.2/32 -m comment --comment "${DNS}" -j KUBE-MARK-MASQ`,
  `-A ${dnsSep} -p udp -m comment --comment "${DNS}" -m udp -j DNAT --to-destination 198.18.1.2:53`,
  "COMMIT",
  "",
].join("\n");

/** Loaded with iptables-legacy-restore: some other component on the node uses the legacy backend. */
export const LEGACY_RULES = [
  "*filter",
  ":INPUT ACCEPT [0:0]",
  ":FORWARD ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  "-A FORWARD -s 198.18.9.0/24 -j DROP",
  "COMMIT",
  "",
].join("\n");

/** `nft` arguments adding a rule iptables-nft cannot translate back (a fib expression) to its mangle table. */
export const NATIVE_NFT_RULE = [
  "add",
  "rule",
  "ip",
  "mangle",
  "PREROUTING",
  "fib",
  "daddr",
  "type",
  "local",
  "counter",
];

/**
 * What the exporter must report for this node, counted by hand. mangle is empty because
 * iptables-nft-save prints only `# Table 'mangle' is incompatible, use 'nft' tool.` for it.
 * filter: INPUT 1 + FORWARD 3 + OUTPUT 1 + KUBE-FORWARD 2 + the leak 120 + 60 = 187 rules, 7 chains.
 * nat: PREROUTING, OUTPUT, POSTROUTING, KUBE-MARK-MASQ 1 each, KUBE-POSTROUTING 3, KUBE-SERVICES 3,
 * web's Service chain 2 and endpoint chains 2 + 2, dns's 1 and 2 = 19 rules, 13 chains.
 */
export const EXPECTED = {
  rules: { raw: 0, mangle: 0, nat: 19, filter: 187, security: 0 },
  chains: { raw: 0, mangle: 0, nat: 13, filter: 7, security: 0 },
  /** Extra copies per owner: 120 copies are 119 extra. */
  duplicates: { "kube-proxy": 0, "kube-router": 119, flannel: 59, calico: 0, cni: 0, docker: 0, other: 0 },
  mixedBackends: 1,
  /** shop/web's rules still send traffic to 198.18.2.10, which the API no longer lists. */
  serviceRulesStale: 1,
  /** shop/payments has a ready endpoint in the API and no rule at all on the node. */
  serviceRulesMissing: 1,
} as const;

/** The node's name in the API and in the exporter's `node` label. */
export const NODE_NAME = "node-1";

function service(
  namespace: string,
  name: string,
  ip: string,
  port: { name: string; port: number; protocol: string; targetPort: number },
): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, uid: `uid-${namespace}-${name}` },
    spec: { type: "ClusterIP", clusterIP: ip, clusterIPs: [ip], ports: [port], selector: { app: name } },
  };
}

function slice(
  namespace: string,
  service: string,
  ips: readonly string[],
  port: { name: string; port: number; protocol: string },
): object {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${service}-x1`, namespace, labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    endpoints: ips.map((ip) => ({
      addresses: [ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: NODE_NAME,
    })),
    ports: [port],
  };
}

/** The API objects of the cluster the node belongs to (for FakeKubeApi). */
export const API_OBJECTS = {
  nodes: [{ name: NODE_NAME }],
  services: [
    service("shop", "web", "198.19.10.10", { name: "http", port: 80, protocol: "TCP", targetPort: 8080 }),
    service("shop", "payments", "198.19.10.80", {
      name: "http",
      port: 80,
      protocol: "TCP",
      targetPort: 8080,
    }),
    service("kube-system", "kube-dns", "198.19.0.10", {
      name: "dns",
      port: 53,
      protocol: "UDP",
      targetPort: 53,
    }),
  ],
  endpointslices: [
    // 198.18.2.10's pod is gone: only 198.18.1.10 is left.
    slice("shop", "web", ["198.18.1.10"], { name: "http", port: 8080, protocol: "TCP" }),
    slice("shop", "payments", ["198.18.3.70"], { name: "http", port: 8080, protocol: "TCP" }),
    slice("kube-system", "kube-dns", ["198.18.1.2"], { name: "dns", port: 53, protocol: "UDP" }),
  ],
};
