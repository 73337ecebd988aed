/**
 * What kube-proxy in nftables mode must have written on one node for one service port, computed
 * from the API objects: the elements of its dispatch maps and the chains it keeps. Follows
 * `syncProxyRules` in pkg/proxy/nftables/proxier.go and `CategorizeEndpoints` in
 * pkg/proxy/topology.go (topology hints are not modelled, as in expected-state.ts).
 */
import { type ExpectedEndpoint, type ExpectedServicePort, localSet } from "../expected-state.ts";
import { type NftServiceChainKind, nftEndpointChain, nftServiceChains } from "./nft-chain-names.ts";

/** A verdict as kube-proxy writes it into a map: `goto CHAIN`, `drop`. */
export type ExpectedVerdict = { readonly kind: "goto"; readonly chain: string } | { readonly kind: "drop" };

export interface ExpectedNftPort {
  readonly sp: ExpectedServicePort;
  readonly chains: Readonly<Record<NftServiceChainKind, string>>;
  /** The endpoints of the Cluster-policy chain (`service-…`); empty when it is not used. */
  readonly clusterEndpoints: readonly ExpectedEndpoint[];
  /** The node's endpoints of the Local-policy chain (`local-…`); empty when it is not used. */
  readonly localEndpoints: readonly ExpectedEndpoint[];
  readonly hasEndpoints: boolean;
  readonly hasInternalEndpoints: boolean;
  readonly hasExternalEndpoints: boolean;
  /** Chain the ClusterIP entry goes to: the `service-` or the `local-` chain. */
  readonly internalChain: string;
  /** The ClusterIP's key (`172.30.0.41 . tcp . 80`). */
  readonly clusterKey: string;
  /** Expected elements per map, key as nft prints it (`172.30.0.41 . tcp . 80`). */
  readonly maps: Readonly<Record<KubeProxyMap, ReadonlyMap<string, ExpectedVerdict>>>;
  /** Keys this port accounts for in any map (present or meant to be absent): not stale. */
  readonly keys: ReadonlySet<string>;
  /** Chains kube-proxy keeps (and fills) for this port. */
  readonly activeChains: ReadonlySet<string>;
  /** Policy chain → the endpoints its numgen verdict map must spread over, in order. */
  readonly policyChains: ReadonlyMap<string, readonly ExpectedEndpoint[]>;
}

export type KubeProxyMap =
  | "service-ips"
  | "service-nodeports"
  | "no-endpoint-services"
  | "no-endpoint-nodeports"
  | "firewall-ips";

export const KUBE_PROXY_MAPS: readonly KubeProxyMap[] = [
  "service-ips",
  "service-nodeports",
  "no-endpoint-services",
  "no-endpoint-nodeports",
  "firewall-ips",
];

/** `ip . proto . port`, as nft prints a key of service-ips. */
export function addrKey(ip: string, protocol: string, port: number): string {
  return `${ip} . ${protocol} . ${port}`;
}

/** `proto . port`, as nft prints a key of service-nodeports. */
export function portKey(protocol: string, port: number): string {
  return `${protocol} . ${port}`;
}

function isIpv4(ip: string | undefined): ip is string {
  return ip !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(ip);
}

/** kube-proxy's endpoint choice for Cluster and Local policy (CategorizeEndpoints). */
function categorize(sp: ExpectedServicePort, node: string) {
  const accessible = sp.nodePort !== undefined || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
  const usesCluster = !sp.internalLocal || (accessible && !sp.externalLocal);
  const usesLocal = sp.internalLocal || (accessible && sp.externalLocal);
  const cluster = usesCluster ? sp.clusterEndpoints : [];
  const local = usesLocal ? localSet(sp.endpoints, node) : [];
  let hasEndpoints = cluster.length > 0;
  if (usesLocal && sp.endpoints.some((e) => e.ready || (e.serving && e.terminating))) hasEndpoints = true;
  return { accessible, usesCluster, usesLocal, cluster, local, hasEndpoints };
}

/**
 * The expected nftables state of one IPv4 service port on `node`, or undefined for a port kube-proxy's
 * IPv4 table does not hold (an IPv6 ClusterIP).
 */
export function expectedNftPort(sp: ExpectedServicePort, node: string): ExpectedNftPort | undefined {
  if (!isIpv4(sp.clusterIP)) return undefined;
  const chains = nftServiceChains({
    namespace: sp.namespace,
    name: sp.name,
    protocol: sp.protocol,
    portName: sp.portName,
  });
  const c = categorize(sp, node);
  const hasInternal = sp.internalLocal ? c.hasEndpoints && c.local.length > 0 : c.hasEndpoints;
  const hasExternal = sp.externalLocal ? c.hasEndpoints && c.local.length > 0 : c.hasEndpoints;
  const internalChain = sp.internalLocal ? chains.local : chains.service;
  const noEndpoint: ExpectedVerdict = c.hasEndpoints
    ? { kind: "drop" }
    : { kind: "goto", chain: "reject-chain" };
  const m: Record<KubeProxyMap, Map<string, ExpectedVerdict>> = {
    "service-ips": new Map(),
    "service-nodeports": new Map(),
    "no-endpoint-services": new Map(),
    "no-endpoint-nodeports": new Map(),
    "firewall-ips": new Map(),
  };
  const keys = new Set<string>();
  const proto = sp.protocol;
  const cip = addrKey(sp.clusterIP, proto, sp.port);
  keys.add(cip);
  if (hasInternal) m["service-ips"].set(cip, { kind: "goto", chain: internalChain });
  else m["no-endpoint-services"].set(cip, noEndpoint);
  const usesFW = sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs].filter(isIpv4)) {
    const k = addrKey(ip, proto, sp.port);
    keys.add(k);
    if (c.hasEndpoints) m["service-ips"].set(k, { kind: "goto", chain: chains.external });
    if (!hasExternal) m["no-endpoint-services"].set(k, noEndpoint);
    if (usesFW && sp.loadBalancerIPs.includes(ip))
      m["firewall-ips"].set(k, { kind: "goto", chain: chains.firewall });
  }
  if (sp.nodePort !== undefined) {
    const k = portKey(proto, sp.nodePort);
    keys.add(k);
    if (c.hasEndpoints) m["service-nodeports"].set(k, { kind: "goto", chain: chains.external });
    if (!hasExternal) m["no-endpoint-nodeports"].set(k, noEndpoint);
  }
  const active = new Set<string>();
  const policyChains = new Map<string, readonly ExpectedEndpoint[]>();
  const p = { namespace: sp.namespace, name: sp.name, protocol: proto, portName: sp.portName };
  if (c.cluster.length > 0) {
    active.add(chains.service);
    policyChains.set(chains.service, c.cluster);
  }
  if (c.local.length > 0) {
    active.add(chains.local);
    policyChains.set(chains.local, c.local);
  }
  if (c.hasEndpoints && c.accessible) active.add(chains.external);
  if (usesFW) active.add(chains.firewall);
  for (const e of [...c.cluster, ...c.local]) active.add(nftEndpointChain(p, e.ip, e.port));
  return {
    sp,
    chains,
    clusterEndpoints: c.cluster,
    localEndpoints: c.local,
    hasEndpoints: c.hasEndpoints,
    hasInternalEndpoints: hasInternal,
    hasExternalEndpoints: hasExternal,
    internalChain,
    clusterKey: cip,
    maps: m,
    keys,
    activeChains: active,
    policyChains,
  };
}
