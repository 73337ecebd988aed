/**
 * kube-proxy's nftables-mode chain names, recomputed from API objects (pkg/proxy/nftables/proxier.go,
 * `servicePortChainNameBase`, `servicePortEndpointChainNameBase`, `hashAndTruncate`): the first 8
 * characters of base32(sha256(name)), a dash, then the name itself, e.g.
 * `service-ULMVA6XW-ns1/svc1/tcp/p80` and `endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80`.
 * Unlike iptables mode the readable name is part of the chain name, so names can be read back.
 */
import { kubeProxyHash } from "../chain-names.ts";

/** knftables' NameLengthMax (256) minus kube-proxy's longest chain prefix (16). */
const BASE_MAX = 240;

/** Per service port chains (`service-`: Cluster policy, `local-`: Local policy). */
export type NftServiceChainKind = "service" | "local" | "external" | "firewall";

/** What names a service port: namespace, Service name, lower-case protocol, port name. */
export interface NftPortName {
  readonly namespace: string;
  readonly name: string;
  readonly protocol: string;
  readonly portName: string;
}

/** `HASH-name`, cut to 240 characters with "..." as kube-proxy does (never for real names). */
export function hashAndTruncate(name: string): string {
  const full = `${kubeProxyHash(name).slice(0, 8)}-${name}`;
  return full.length > BASE_MAX ? `${full.slice(0, BASE_MAX - 3)}...` : full;
}

function portPath(p: NftPortName): string {
  return `${p.namespace}/${p.name}/${p.protocol.toLowerCase()}/${p.portName}`;
}

/** The four per-port chain names of a service port. */
export function nftServiceChains(p: NftPortName): Readonly<Record<NftServiceChainKind, string>> {
  const base = hashAndTruncate(portPath(p));
  return {
    service: `service-${base}`,
    local: `local-${base}`,
    external: `external-${base}`,
    firewall: `firewall-${base}`,
  };
}

/** `endpoint-HASH-ns/name/proto/port__IP/PORT` (an IPv6 address has its colons replaced by dots). */
export function nftEndpointChain(p: NftPortName, ip: string, port: number): string {
  return `endpoint-${hashAndTruncate(`${portPath(p)}__${ip.replaceAll(":", ".")}/${port}`)}`;
}

/** A kube-proxy service or endpoint chain name read back. */
export interface ParsedNftChain {
  readonly kind: NftServiceChainKind | "endpoint";
  readonly hash: string;
  readonly port: NftPortName;
  /** `namespace/name`. */
  readonly service: string;
  /** For endpoint chains: `ip:port` (IPv4) as written in the name. */
  readonly endpoint?: string;
  /** Whether the hash is the one the name gives (false: not a kube-proxy name, or truncated). */
  readonly hashMatches: boolean;
}

const CHAIN = /^(service|local|external|firewall|endpoint)-([A-Z2-7]{8})-([^/]+)\/([^/]+)\/([^/]+)\/(.*)$/;

/**
 * Reads a kube-proxy nftables chain name, or undefined for other chains (kube-proxy's own service
 * and endpoint chains are the only ones with a "/", proxier.go `isServiceChainName`).
 */
export function parseNftChainName(chain: string): ParsedNftChain | undefined {
  const m = CHAIN.exec(chain);
  if (m === null) return undefined;
  const kind = m[1] as ParsedNftChain["kind"];
  const rest = m[6]!;
  let portName = rest;
  let endpoint: string | undefined;
  if (kind === "endpoint") {
    const at = rest.lastIndexOf("__");
    if (at < 0) return undefined;
    portName = rest.slice(0, at);
    const ep = rest.slice(at + 2);
    const slash = ep.lastIndexOf("/");
    if (slash < 0) return undefined;
    endpoint = `${ep.slice(0, slash)}:${ep.slice(slash + 1)}`;
  }
  const port: NftPortName = { namespace: m[3]!, name: m[4]!, protocol: m[5]!, portName };
  const named = chain.slice(kind.length + 1 + 9);
  return {
    kind,
    hash: m[2]!,
    port,
    service: `${port.namespace}/${port.name}`,
    ...(endpoint === undefined ? {} : { endpoint }),
    hashMatches: kubeProxyHash(named).slice(0, 8) === m[2],
  };
}
