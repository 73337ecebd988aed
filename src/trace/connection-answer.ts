/**
 * netdoctor's answer for one connection across nodes, from a bundle's evidence alone: an existing
 * conntrack entry, or else the client node's iptables rules (the tracer, with kube-proxy's random
 * endpoint choice as branches), decide the destination; src/hostnet's path evaluator then follows
 * routing, neighbours and the overlay across nodes for the request and its reply, asking the
 * iptables tracer at every node's FORWARD / INPUT / OUTPUT (host-filter.ts).
 */
import { evaluateConnection } from "../hostnet/connection-eval.ts";
import { type ConntrackHit, conntrackRewrite } from "../hostnet/conntrack-rewrite.ts";
import type { ConnectionResult } from "../hostnet/path-types.ts";
import { lookupRoute } from "../hostnet/route-lookup.ts";
import type { Ingress, Packet, Trace } from "../model/trace.ts";
import { exactIp } from "./address-text.ts";
import {
  dumpFile,
  type HostFilter,
  hostFilter,
  hostLocalIps,
  NodeIndexes,
  nodeTraceOptions,
} from "./host-filter.ts";
import type { HostPathInput } from "./host-path-input.ts";
import { ipvsNotCollected } from "./ipvs-stage.ts";
import { ruleStepsOf } from "./rule-steps.ts";
import { tracePacket } from "./trace-packet.ts";

/** A connection to answer: the packet as the client sends it, from a pod (or hostNetwork) on a node. */
export interface ConnectionQuestion {
  readonly node: string;
  readonly ingress: Ingress;
  readonly packet: Packet;
  /** Payload bytes of the client's packets (decides MTU problems); default 16. */
  readonly payload?: number;
}

/** One way the connection may go (kube-proxy's random endpoint choice splits it). */
export interface ConnectionBranch {
  readonly probability: number;
  /** The packet after the client node's NAT or conntrack entry (what is routed). */
  readonly routed: Packet;
  /**
   * How the destination was decided before routing: a conntrack entry, the client node's iptables
   * NAT, its IPVS (kube-proxy's IPVS mode: the node itself sends the packet on to the real server,
   * so it leaves through OUTPUT, not FORWARD), or nothing.
   */
  readonly rewrite: "conntrack" | "nat" | "ipvs" | "none";
  /** The client node's own iptables path (absent when a conntrack entry decided, or no dump was read). */
  readonly clientTrace?: Trace;
  readonly conntrack?: ConntrackHit;
  /**
   * The evaluation across nodes; absent when the client node's own rules already end the path
   * (dropped, rejected or undecided there: `clientTrace` says how).
   */
  readonly connection?: ConnectionResult;
}

/** Every branch of the connection, and the iptables traces behind the evaluator's filter steps. */
export interface ConnectionAnswer {
  readonly question: ConnectionQuestion;
  readonly branches: readonly ConnectionBranch[];
  readonly filter: HostFilter;
}

/** The interface a pod's packet comes in by: the device of the connected route to its address. */
export function podInterface(input: HostPathInput, node: string, ip: string): string | undefined {
  const host = input.hosts.get(node);
  if (host?.route === undefined || host.rule === undefined) return undefined;
  const d = lookupRoute({ dst: ip }, { rules: host.rule.rules, routes: host.route.routes });
  return d.kind === "unicast" && d.nextHop.gateway === undefined ? d.nextHop.dev : undefined;
}

function evaluate(
  input: HostPathInput,
  q: ConnectionQuestion,
  routed: Packet,
  filter: HostFilter,
  sentByNode = false,
): ConnectionResult {
  const headers = q.packet.protocol === "tcp" ? 52 : 28;
  const p = q.packet;
  return evaluateConnection(routed, {
    hosts: input.hosts,
    pods: input.pods,
    filter: filter.filter,
    packetBytes: Math.min(1500, (q.payload ?? 16) + headers),
    // After IPVS schedules it, the node itself sends the packet to the real server (ip_vs_xmit.c:
    // LOCAL_OUT): routed as the node's own, its OUTPUT and POSTROUTING already in the client trace.
    origin: { node: q.node, ingress: sentByNode ? "host" : q.ingress },
    ...(routed.dstIp === p.dstIp && routed.dstPort === p.dstPort
      ? {}
      : { dnatFrom: { ip: p.dstIp, ...(p.dstPort === undefined ? {} : { port: p.dstPort }) } }),
  });
}

/** The device of the client node's route to `dst` (the out-interface of its FORWARD), when the files say. */
function routeDevice(input: HostPathInput, node: string, dst: string): string | undefined {
  const host = input.hosts.get(node);
  if (host?.route === undefined || host.rule === undefined) return undefined;
  const d = lookupRoute({ dst }, { rules: host.rule.rules, routes: host.route.routes });
  return d.kind === "unicast" ? d.nextHop.dev : undefined;
}

/** The client node's NAT: one branch per traced path, each with its rewritten destination. */
function natBranches(
  input: HostPathInput,
  q: ConnectionQuestion,
  indexes: NodeIndexes,
  filter: HostFilter,
): ConnectionBranch[] {
  const rs = input.rulesets.get(q.node);
  const index = indexes.of(q.node);
  const p = q.packet;
  if (rs === undefined || index === undefined)
    return [{ probability: 1, routed: p, rewrite: "none", connection: evaluate(input, q, p, filter) }];
  const iif = q.ingress === "pod" ? podInterface(input, q.node, p.srcIp) : undefined;
  // kube-proxy's IPVS: the node's table, or, for an IPVS-mode node without one, "not collected".
  const ipvs = input.ipvs.get(q.node) ?? ipvsNotCollected(rs, dumpFile(q.node));
  const r = tracePacket(
    rs,
    {
      packet: p,
      from: q.ingress,
      localIps: hostLocalIps(input, q.node),
      node: q.node,
      ...(iif === undefined ? {} : { inInterface: iif }),
    },
    {
      index,
      routeInterface: (dst) => routeDevice(input, q.node, dst),
      ...nodeTraceOptions(input, q.node),
      ...(ipvs === undefined ? {} : { ipvs }),
    },
  );
  return r.traces.map((t) => {
    const d = t.disposition.kind;
    const dst = t.headers.dst;
    const ip = exactIp(dst);
    const routed: Packet =
      ip === undefined || dst.kind !== "exact"
        ? p
        : { ...p, dstIp: ip, ...(dst.port === undefined ? {} : { dstPort: dst.port }) };
    const viaIpvs = ruleStepsOf(t).some((s) => s.backend === "ipvs");
    const rewrite = viaIpvs
      ? "ipvs"
      : routed.dstIp !== p.dstIp || routed.dstPort !== p.dstPort
        ? "nat"
        : "none";
    const base = { probability: t.probability, routed, rewrite, clientTrace: t } as const;
    if (d === "dropped" || d === "rejected" || d === "undecided") return base;
    return { ...base, connection: evaluate(input, q, routed, filter, viaIpvs) };
  });
}

/**
 * Answers a connection from the bundle: a conntrack entry for its exact tuple (when the client's
 * source port is given) decides the destination, else the client node's rules do.
 *
 * @example
 * ```ts
 * const a = answerConnection(input, { node: "node-a", ingress: "pod", packet });
 * a.branches[0].connection?.outcome; // "delivered"
 * ```
 */
export function answerConnection(input: HostPathInput, q: ConnectionQuestion): ConnectionAnswer {
  const indexes = new NodeIndexes(input);
  const filter = hostFilter(input, indexes);
  const ct = input.hosts.get(q.node)?.conntrack;
  const hit = ct === undefined || q.packet.srcPort === undefined ? undefined : conntrackRewrite(q.packet, ct);
  if (hit !== undefined) {
    return {
      question: q,
      filter,
      branches: [
        {
          probability: 1,
          routed: hit.packet,
          rewrite: "conntrack",
          conntrack: hit,
          connection: evaluate(input, q, hit.packet, filter),
        },
      ],
    };
  }
  return { question: q, filter, branches: natBranches(input, q, indexes, filter) };
}
