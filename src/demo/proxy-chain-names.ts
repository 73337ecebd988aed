/**
 * The names kube-proxy (iptables mode) gives its per-service-port and per-endpoint chains, for the
 * demo generator. Written from kube-proxy's rules (proxier.go `portProtoHash` and
 * `servicePortEndpointChainName`: the first 16 characters of base32(sha256(…))), independently of
 * src/kube-proxy/, which the demo's dumps exist to test.
 */
import { sha256 } from "../text/sha256.ts";

/** RFC 4648 base32 alphabet (Go's `base32.StdEncoding`). */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** The first `length` base32 characters of `bytes` (padding never reaches the first 16). */
function base32Prefix(bytes: Uint8Array, length: number): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= length) break;
  }
  return out;
}

/**
 * kube-proxy's `ServicePortName.String()` since v1.19: `namespace/name`, then `:port` only for a
 * named port.
 */
export function demoServicePortName(namespace: string, name: string, portName: string): string {
  return portName === "" ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** The 16-character hash shared by a service port's SVC, XLB and FW chains. */
export function demoPortHash(svcPortName: string, protocol: string): string {
  return base32Prefix(sha256(svcPortName + protocol.toLowerCase()), 16);
}

/** `KUBE-SEP-…` of one endpoint: the hash also covers `ip:port` (`[ip]:port` for IPv6). */
export function demoEndpointChain(svcPortName: string, protocol: string, ip: string, port: number): string {
  const hostPort = ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
  return `KUBE-SEP-${base32Prefix(sha256(svcPortName + protocol.toLowerCase() + hostPort), 16)}`;
}
