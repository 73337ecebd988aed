/**
 * Walks the first packet of a connection through a node's iptables rules the way netfilter does:
 * hooks in kernel order, tables in priority order, jumps, gotos, RETURN, policies, NAT and MARK
 * rewrites, statistic branches. Pure: no I/O.
 */
import type { TracePath, TraceResult } from "../model/trace.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { PROTOCOL_NUMBERS } from "./compile-match.ts";
import { fromHost, fromPod } from "./hook-order.ts";
import { toPath } from "./to-path.ts";
import { buildTraceIndex, type TraceIndex } from "./trace-index.ts";
import type { TraceOptions, TraceRequest } from "./trace-request.ts";
import type { Walk } from "./walk-context.ts";
import type { WalkState } from "./walk-state.ts";

export { buildTraceIndex, type TraceIndex } from "./trace-index.ts";
export type { TraceOptions, TraceRequest } from "./trace-request.ts";

/**
 * Traces one packet. Each returned path has a probability (they sum to 1), a disposition, the
 * destination after rewrites and every rule that acted on the way, with its dump line.
 *
 * @example
 * ```ts
 * const r = tracePacket(ruleset, { packet: { protocol: "tcp", srcIp: "10.42.0.5", dstIp: "10.43.0.10", dstPort: 53 }, from: "pod" });
 * r.paths[0].disposition; // "forward"
 * ```
 * @throws {TypeError} When the packet's addresses are not IPv4 (the tracer reads IPv4 dumps).
 */
export function tracePacket(
  ruleset: TraceIndex["ruleset"],
  request: TraceRequest,
  options: TraceOptions = {},
): TraceResult {
  const index = options.index ?? buildTraceIndex(ruleset, { eager: false });
  if (index.ruleset !== ruleset) throw new TypeError("Cannot trace with an index built for another ruleset");
  const { packet } = request;
  const src = parseIpv4(packet.srcIp);
  const dst = parseIpv4(packet.dstIp);
  if (src === undefined) throw new TypeError(`Cannot trace source "${packet.srcIp}": not an IPv4 address`);
  if (dst === undefined)
    throw new TypeError(`Cannot trace destination "${packet.dstIp}": not an IPv4 address`);
  const localIps = request.localIps === undefined ? undefined : parseLocalIps(request.localIps);
  const sport = packet.protocol === "icmp" ? -1 : (packet.srcPort ?? -1);
  const dport = packet.protocol === "icmp" ? -1 : (packet.dstPort ?? -1);
  const st: WalkState = {
    hook: request.from === "pod" ? "PREROUTING" : "OUTPUT",
    from: request.from,
    proto: packet.protocol,
    protoNum: PROTOCOL_NUMBERS[packet.protocol]!,
    src,
    dst,
    sport,
    dport,
    origSrc: src,
    origDst: dst,
    origSport: sport,
    origDport: dport,
    mark: 0,
    ctmark: 0,
    dnat: false,
    snat: false,
    untracked: false,
    masquerade: false,
    inIf: undefined,
    outIf: undefined,
    recent: undefined,
  };
  const walk: Walk = {
    index,
    ctx: { localIps, bridged: options.bridged, nthCounters: options.nthCounters ?? "unknown" },
    request,
    options,
    paths: 1,
    maxPaths: options.maxPaths ?? 4096,
    nextSt: undefined,
    nextP: 0,
    nextTrail: undefined,
    srcText: undefined,
  };
  const finals = request.from === "pod" ? fromPod(walk, st) : fromHost(walk, st);
  const paths: TracePath[] = [];
  for (const o of finals) paths.push(toPath(walk, o));
  return { packet, from: request.from, paths };
}

/** The last local address list parsed, reused while callers pass the same addresses. */
let lastLocalTexts: readonly string[] = [];
let lastLocalIps: number[] = [];

function parseLocalIps(texts: readonly string[]): number[] {
  if (texts.length === lastLocalTexts.length) {
    let same = true;
    for (let i = 0; i < texts.length && same; i++) same = texts[i] === lastLocalTexts[i];
    if (same) return lastLocalIps;
  }
  const ips: number[] = [];
  for (const ip of texts) {
    const n = parseIpv4(ip);
    if (n === undefined) throw new TypeError(`Cannot use local address "${ip}": not an IPv4 address`);
    ips.push(n);
  }
  // A copy: the caller may change its array later.
  lastLocalTexts = [...texts];
  lastLocalIps = ips;
  return ips;
}
