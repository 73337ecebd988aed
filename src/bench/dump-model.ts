/**
 * The model behind a generated dump (src/bench/generate-dump.ts): the Services with their endpoints
 * and kube-proxy hashes, the leaked rules of k3s-io/k3s#3117 with their share of the duplicates, and
 * the chain specs the nat and filter tables are built from.
 */
import { kubeProxyHash } from "../kube-proxy/chain-names.ts";

/** The IPv4 address `offset` after `base` (both as 32-bit numbers), dotted. */
export function ipv4(base: number, offset: number): string {
  const n = (base + offset) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const SERVICE_BASE = (10 << 24) | (43 << 16);
const POD_BASE = (10 << 24) | (42 << 16);
/** The pod CIDR of the generated cluster (flannel's and the masquerade rules'). */
export const CLUSTER_CIDR = "10.42.0.0/16";

/** The leaked rules of k3s-io/k3s#3117 and their share of the duplicates. */
export const LEAKED = [
  {
    table: "filter",
    chain: "KUBE-ROUTER-INPUT",
    share: 0.5,
    text: '-A KUBE-ROUTER-INPUT -p tcp -m addrtype --dst-type LOCAL -m comment --comment "allow LOCAL TCP traffic to node ports - LR7XO7NXDBGQJD2M" -m multiport --dports 30000:32767 -j RETURN',
  },
  {
    table: "filter",
    chain: "FLANNEL-FWD",
    share: 0.25,
    text: `-A FLANNEL-FWD -s ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
  },
  {
    table: "filter",
    chain: "KUBE-FIREWALL",
    share: 0.15,
    text: '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
  },
  {
    table: "nat",
    chain: "FLANNEL-POSTRTG",
    share: 0.1,
    text: `-A FLANNEL-POSTRTG -s ${CLUSTER_CIDR} -d ${CLUSTER_CIDR} -m comment --comment "flanneld masq" -j RETURN`,
  },
] as const;

/** A generated Service: one TCP port, its endpoints, an optional NodePort and kube-proxy's chain hash. */
export interface Service {
  readonly index: number;
  readonly spn: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly endpoints: readonly string[];
  readonly nodePort: number | undefined;
  readonly svcHash: string;
}

/** The Service number `index`, with about `endpointsPerService` endpoints (every 20th has none). */
export function makeService(index: number, endpointsPerService: number): Service {
  const spn = `ns${index % 97}/svc-${index}:http`;
  // 65534 ClusterIPs per /16: larger synthetic clusters reuse an IP with another port.
  const clusterIP = ipv4(SERVICE_BASE, (index % 65534) + 1);
  const port = 80 + Math.floor(index / 65534);
  const count = index % 20 === 19 ? 0 : 1 + (index % Math.max(1, 2 * endpointsPerService - 1));
  const endpoints: string[] = [];
  for (let e = 0; e < count; e++)
    endpoints.push(`${ipv4(POD_BASE, ((index * 7 + e * 13) % 65534) + 1)}:8080`);
  endpoints.sort();
  return {
    index,
    spn,
    clusterIP,
    port,
    endpoints,
    nodePort: index % 10 === 3 && count > 0 ? 30000 + (index % 2768) : undefined,
    svcHash: kubeProxyHash(`${spn}tcp`),
  };
}

/** 1/n as iptables-save prints it: the kernel keeps round(p * 2^31), printed with 11 decimals. */
export function probability(n: number): string {
  return (Math.round(0x80000000 / n) / 0x80000000).toFixed(11);
}

/** One chain with its rules, generated on demand. */
export interface ChainSpec {
  readonly name: string;
  readonly rules: () => string[];
}

/** How many extra copies of each {@linkcode LEAKED} rule make `duplicates` in all. */
export function duplicateCounts(duplicates: number): number[] {
  const counts = LEAKED.map((l) => Math.floor(duplicates * l.share));
  counts[0]! += duplicates - counts.reduce((a, b) => a + b, 0);
  return counts;
}

/** One table's chains: the built-in chains first, then the user chains in creation order. */
export interface TableChains {
  readonly builtins: ChainSpec[];
  readonly user: ChainSpec[];
}
