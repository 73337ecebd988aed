/**
 * kube-proxy (iptables mode) chain names, recomputed from API objects so rules can be matched to
 * Services without trusting comments (large clusters and v1.12-v1.16 omit them).
 * Formula: prefix + base32std(sha256(svcPortName + protocol [+ "ip:port"]))[:16] (proxier.go).
 */
import { sha256 } from "../text/sha256.ts";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * kube-proxy's chain hash: the first 16 characters of Go's base32.StdEncoding of sha256(input)
 * (padding never reaches them).
 */
export function kubeProxyHash(input: string): string {
  const bytes = sha256(input);
  let out = "";
  let bits = 0;
  let value = 0;
  for (let i = 0; i < 10; i++) {
    value = ((value << 8) | bytes[i]!) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * kube-proxy's `ServicePortName.String()`: `ns/name:port`, and since v1.19 `ns/name` for an
 * unnamed port. `legacyColon` gives the v1.18-and-earlier form (`ns/name:`).
 */
export function servicePortName(
  namespace: string,
  name: string,
  portName: string | undefined,
  legacyColon = false,
): string {
  const p = portName ?? "";
  return p !== "" || legacyColon ? `${namespace}/${name}:${p}` : `${namespace}/${name}`;
}

/** `net.JoinHostPort`: brackets around IPv6 addresses. */
export function joinHostPort(ip: string, port: number | string): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The 16-character hash shared by a service port's SVC, SVL, EXT, FW and XLB chains. */
export function portProtoHash(svcPortName: string, protocol: string): string {
  return kubeProxyHash(svcPortName + protocol.toLowerCase());
}

/** Per-service-port chain prefixes. */
export type ServiceChainKind = "SVC" | "SVL" | "EXT" | "FW" | "XLB";

/** `KUBE-SVC-…` and friends for one service port. */
export function serviceChain(kind: ServiceChainKind, svcPortName: string, protocol: string): string {
  return `KUBE-${kind}-${portProtoHash(svcPortName, protocol)}`;
}

/** `KUBE-SEP-…` for one endpoint (`ip`, target port number) of a service port. */
export function endpointChain(svcPortName: string, protocol: string, ip: string, port: number): string {
  return `KUBE-SEP-${kubeProxyHash(svcPortName + protocol.toLowerCase() + joinHostPort(ip, port))}`;
}
