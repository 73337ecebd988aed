/**
 * `netdoctor trace` options turned into a tracer request, with one clear usage error per mistake:
 * addresses and ports, the protocol, where the packet enters, and IPv6 (refused until it is traced).
 */
import type { Ingress, Packet, Protocol } from "../../model/trace.ts";
import { isIpv6Literal } from "../../net/cidr.ts";
import { parseIpv4 } from "../../net/ipv4.ts";
import { UsageError } from "../exit-codes.ts";

/** The command line as commander hands it over. */
export interface TraceCliOptions {
  readonly dump?: string;
  readonly bundle?: string;
  readonly node?: string;
  readonly src?: string;
  readonly dst?: string;
  /** `--to`: the multi-hop trace's destination (trace-multihop.ts). */
  readonly to?: string;
  readonly proto: string;
  readonly from: string;
  readonly localIp: readonly string[];
  readonly inInterface?: string;
  readonly outInterface?: string;
  /** `ipset save` output for `-m set` rules (with --bundle: the node's ipset-save.txt by default). */
  readonly ipsets?: string;
  /** `ipvsadm -Sn` output of an IPVS-mode node (with --bundle: the node's ipvsadm.txt by default). */
  readonly ipvsadm?: string;
  /** `yes`/`no`: whether the packet crossed a Linux bridge (decides `-m physdev`). */
  readonly bridged?: string;
  readonly output: string;
}

const PROTOCOLS: readonly Protocol[] = ["tcp", "udp", "sctp", "icmp"];

const IPV6 = "IPv6 is not traced yet (netdoctor traces IPv4 packets through iptables-save dumps)";

/** `[fd00::1]:80`, `fd00::1`, `fd00::1/128`: IPv6, refused with its own message. */
function ipv6Of(text: string): boolean {
  const bracket = /^\[([^\]]+)\](?::\d*)?$/.exec(text);
  return isIpv6Literal(bracket?.[1] ?? text.replace(/\/\d+$/, ""));
}

/** Parses `IP` or `IP:PORT`; `what` names the option in messages. */
export function parseEndpoint(
  text: string,
  what: string,
  portRequired: boolean,
): { ip: string; port?: number } {
  if (ipv6Of(text)) throw new UsageError(`Cannot use ${what} "${text}": ${IPV6}`);
  const m = /^([^:]+)(?::(.*))?$/.exec(text);
  const ip = m?.[1] ?? "";
  if (parseIpv4(ip) === undefined)
    throw new UsageError(`Cannot use ${what} "${text}": "${ip}" is not an IPv4 address`);
  const portText = m?.[2];
  if (portText === undefined) {
    if (portRequired) throw new UsageError(`Cannot use ${what} "${text}": expected IP:PORT`);
    return { ip };
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new UsageError(`Cannot use ${what} "${text}": port "${portText}" is not between 1 and 65535`);
  }
  return { ip, port };
}

/** `--bridged yes|no` as a boolean; undefined when not given. */
export function bridgedOf(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === "yes" || text === "no") return text === "yes";
  throw new UsageError(`Cannot use --bridged "${text}": expected yes or no`);
}

/** The node addresses given with `--local-ip`, checked. */
export function localIpsOf(texts: readonly string[]): string[] {
  for (const ip of texts) {
    if (isIpv6Literal(ip)) throw new UsageError(`Cannot use --local-ip "${ip}": ${IPV6}`);
    if (parseIpv4(ip) === undefined)
      throw new UsageError(`Cannot use --local-ip "${ip}": not an IPv4 address`);
  }
  return [...texts];
}

/** `--from`: where the packet enters, or the pod it is sent from (`NS/POD`, with `--bundle`). */
export function ingressOf(from: string): { ingress: Ingress } | { pod: string } {
  if (from === "pod" || from === "host") return { ingress: from };
  if (/^[^/\s]+\/[^/\s]+$/.test(from)) return { pod: from };
  throw new UsageError(`Cannot use --from "${from}": expected pod, host or NAMESPACE/POD`);
}

/**
 * Turns the command line into a packet and request, with one clear error per mistake. `pod` is the
 * sending pod when `--from NS/POD` named one (its address is the source unless `--src` gives one).
 */
export function traceRequestFromOptions(
  opts: TraceCliOptions & { readonly dst: string },
  pod?: { readonly ip: string; readonly hostNetwork: boolean },
): { packet: Packet; from: Ingress; localIps: string[] } {
  const protocol = opts.proto.toLowerCase() as Protocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new UsageError(`Cannot use protocol "${opts.proto}": expected one of ${PROTOCOLS.join(", ")}`);
  }
  const where = ingressOf(opts.from);
  if ("pod" in where && pod === undefined)
    throw new UsageError(`Cannot use --from "${opts.from}": a pod needs --bundle DIR`);
  if (opts.src === undefined && pod === undefined)
    throw new UsageError("Cannot trace without a source: give --src IP[:PORT] or --from NAMESPACE/POD");
  const src = opts.src === undefined ? { ip: pod!.ip } : parseEndpoint(opts.src, "--src", false);
  if (pod !== undefined && src.ip !== pod.ip && !pod.hostNetwork)
    throw new UsageError(`Cannot use --src "${opts.src}": the pod's address is ${pod.ip}`);
  const dst = parseEndpoint(opts.dst, "--dst", protocol !== "icmp");
  const packet: Packet = {
    protocol,
    srcIp: src.ip,
    dstIp: dst.ip,
    ...(src.port === undefined || protocol === "icmp" ? {} : { srcPort: src.port }),
    ...(dst.port === undefined || protocol === "icmp" ? {} : { dstPort: dst.port }),
  };
  const from: Ingress = "ingress" in where ? where.ingress : pod!.hostNetwork ? "host" : "pod";
  return { packet, from, localIps: localIpsOf(opts.localIp) };
}
