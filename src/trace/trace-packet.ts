/**
 * Walks the first packet of a connection through a node's iptables rules the way netfilter does:
 * hooks in kernel order, tables in priority order, jumps, gotos, RETURN, policies, NAT and MARK
 * rewrites, statistic branches, and the local-or-forward routing decision. Pure: no I/O.
 *
 * The export surface of the tracer (what diagnose/, report/, cli/ and the library use):
 * - {@linkcode tracePacket}: one packet through one node's ruleset → a typed {@linkcode TraceResult}
 *   (model/trace.ts: flow, traces with probability, hops, steps and one disposition each);
 * - {@linkcode buildTraceIndex}: per-ruleset data shared across many traces;
 * - {@linkcode rulesetFamily}: whether a dump is for IPv4 or IPv6 (IPv6 dumps are refused);
 * - `TraceRequest` / `TraceOptions`: what to trace and how the node is set up.
 */
import type { Flow, Headers } from "../model/flow.ts";
import { type Trace, type TraceResult, traceResult } from "../model/trace.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { fromHost, fromPod } from "./hook-order.ts";
import { PROTOCOL_NUMBERS } from "./match-test.ts";
import { rulesetFamily } from "./ruleset-family.ts";
import { toTrace } from "./to-trace.ts";
import { buildTraceIndex, type TraceIndex } from "./trace-index.ts";
import type { TraceOptions, TraceRequest } from "./trace-request.ts";
import type { Walk } from "./walk-context.ts";
import type { WalkState } from "./walk-state.ts";

export { type RulesetFamily, rulesetFamily } from "./ruleset-family.ts";
export { buildTraceIndex, type TraceIndex } from "./trace-index.ts";
export type { TraceOptions, TraceRequest } from "./trace-request.ts";

/**
 * Traces one packet. Each returned trace has a probability (they sum to 1), a disposition, the
 * headers after rewrites and every step on the way, each with its dump line.
 *
 * @example
 * ```ts
 * const r = tracePacket(ruleset, {
 *   packet: { protocol: "udp", srcIp: "10.42.0.5", dstIp: "10.43.0.10", dstPort: 53 },
 *   from: "pod",
 *   localIps: ["192.168.1.10"],
 * });
 * r.traces[0].disposition.kind; // "forwarded"
 * ```
 * @throws {TypeError} When the packet's or the node's addresses are not IPv4, or the dump is an
 *   ip6tables dump (IPv6 is not traced yet).
 */
export function tracePacket(
  ruleset: TraceIndex["ruleset"],
  request: TraceRequest,
  options: TraceOptions = {},
): TraceResult {
  const index =
    options.index ??
    buildTraceIndex(ruleset, { eager: false, ...(options.file ? { file: options.file } : {}) });
  if (index.ruleset !== ruleset) throw new TypeError("Cannot trace with an index built for another ruleset");
  index.family ??= rulesetFamily(ruleset);
  if (index.family.family === "ipv6") {
    throw new TypeError(
      `Cannot trace an IPv4 packet through an IPv6 (ip6tables) dump: line ${index.family.line ?? "?"} has ${index.family.why}`,
    );
  }
  const walk: Walk = {
    index,
    ctx: {
      localIps: request.localIps === undefined ? undefined : parseLocalIps(request.localIps),
      bridged: options.bridged,
      bridgedBetween: options.bridgedBetween,
      reply: request.reply === true,
      nthCounters: options.nthCounters ?? "unknown",
      ipsets: options.ipsets,
    },
    request,
    options,
    frames: [],
    paths: 1,
    maxPaths: options.maxPaths ?? 4096,
  };
  const st = initialState(request);
  const finals = request.from === "pod" ? fromPod(walk, st) : fromHost(walk, st);
  const traces: Trace[] = [];
  for (const o of finals) traces.push(toTrace(walk, o));
  return traceResult(flowOf(request), traces);
}

function parseLocalIps(texts: readonly string[]): number[] {
  const ips: number[] = [];
  for (const ip of texts) {
    const n = parseIpv4(ip);
    if (n === undefined) throw new TypeError(`Cannot use local address "${ip}": not an IPv4 address`);
    ips.push(n);
  }
  return ips;
}

/** The flow of a request (the packet as sent, where it enters). */
function flowOf(request: TraceRequest): Flow {
  const p = request.packet;
  const flow = { protocol: p.protocol, srcIp: p.srcIp } as { -readonly [K in keyof Flow]: Flow[K] };
  if (p.srcPort !== undefined && p.protocol !== "icmp") flow.srcPort = p.srcPort;
  flow.dstIp = p.dstIp;
  if (p.dstPort !== undefined && p.protocol !== "icmp") flow.dstPort = p.dstPort;
  flow.ingress = request.from;
  if (request.node !== undefined) flow.node = request.node;
  if (request.inInterface !== undefined && request.from === "pod") flow.inInterface = request.inInterface;
  return flow;
}

/** The walk's starting state, and the headers as sent. */
function initialState(request: TraceRequest): WalkState {
  const { packet } = request;
  const src = parseIpv4(packet.srcIp);
  const dst = parseIpv4(packet.dstIp);
  if (src === undefined) throw new TypeError(`Cannot trace source "${packet.srcIp}": not an IPv4 address`);
  if (dst === undefined)
    throw new TypeError(`Cannot trace destination "${packet.dstIp}": not an IPv4 address`);
  const icmp = packet.protocol === "icmp";
  const sport = icmp ? -1 : (packet.srcPort ?? -1);
  const dport = icmp ? -1 : (packet.dstPort ?? -1);
  const hdr: Headers = {
    protocol: packet.protocol,
    src: sport < 0 ? { kind: "exact", ip: packet.srcIp } : { kind: "exact", ip: packet.srcIp, port: sport },
    dst: dport < 0 ? { kind: "exact", ip: packet.dstIp } : { kind: "exact", ip: packet.dstIp, port: dport },
  };
  return {
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
    hdr,
    recent: undefined,
  };
}
