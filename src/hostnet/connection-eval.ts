/**
 * A connection works when its request reaches the server and the reply reaches the client: this
 * evaluates both directions, the reply from where the request was delivered.
 */
import type { Packet } from "../model/trace.ts";
import type { PathContext } from "./hop-context.ts";
import { evaluatePath, type Origin } from "./path-eval.ts";
import type { ConnectionResult, PathResult } from "./path-types.ts";
import { sysctlNumber } from "./sysctl.ts";

/** Options of {@linkcode evaluateConnection}. */
export interface ConnectionOptions {
  readonly origin: Origin;
  /**
   * The destination the client used before DNAT (a ClusterIP), when the packet given is already
   * rewritten: the reply must be un-NATed by conntrack on the node that did the DNAT.
   */
  readonly dnatFrom?: { readonly ip: string; readonly port?: number };
}

function reversed(p: Packet): Packet {
  return {
    protocol: p.protocol,
    srcIp: p.dstIp,
    dstIp: p.srcIp,
    ...(p.dstPort === undefined ? {} : { srcPort: p.dstPort }),
    ...(p.srcPort === undefined ? {} : { dstPort: p.srcPort }),
  };
}

/** Where the reply starts: the pod or node that got the request. */
function replyOrigin(request: PathResult): Origin | undefined {
  const last = request.hops[request.hops.length - 1];
  if (last === undefined) return undefined;
  if (last.disposition === "delivered") return { node: last.node, ingress: "pod" };
  if (last.disposition === "delivered-locally") return { node: last.node, ingress: "host" };
  return undefined;
}

/**
 * Evaluates the request, then (when it arrives) the reply.
 *
 * @example
 * ```ts
 * const c = evaluateConnection(packet, { ...ctx, origin: { node: "a", ingress: "pod" } });
 * c.outcome; // "timeout"; c.reason: "node b: the frame is for MAC ..., dropped"
 * ```
 */
export function evaluateConnection(packet: Packet, ctx: PathContext & ConnectionOptions): ConnectionResult {
  const request = evaluatePath(packet, { ...ctx, reply: false });
  if (request.outcome !== "delivered") {
    return {
      request,
      outcome: request.outcome,
      ...(request.clientError === undefined ? {} : { clientError: request.clientError }),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    };
  }
  const origin = replyOrigin(request);
  if (origin === undefined) return { request, outcome: "unknown", reason: "the request ended nowhere" };
  const reply = evaluatePath(reversed(packet), { ...ctx, origin, reply: true });
  const base = { request, reply };
  if (reply.outcome !== "delivered") {
    return {
      ...base,
      outcome: reply.outcome === "error" ? "timeout" : reply.outcome,
      reason: `the reply is lost: ${reply.reason ?? reply.outcome}`,
    };
  }
  // DNAT on a node, reply bridged back on the same bridge: only br_netfilter lets conntrack see
  // (and un-NAT) it; otherwise the client gets an answer from the pod's own address and drops it
  // (kubernetes/kubernetes#38802).
  const first = reply.hops[0];
  const bridged =
    reply.hops.length === 1 && first?.inInterface !== undefined && first.inInterface === first.outInterface;
  if (ctx.dnatFrom !== undefined && bridged) {
    const host = ctx.hosts.get(first.node);
    const nf =
      host?.sysctl === undefined
        ? undefined
        : sysctlNumber(host.sysctl, "net.bridge.bridge-nf-call-iptables");
    if (host?.sysctl === undefined) {
      return {
        ...base,
        outcome: "unknown",
        reason: `a bridged reply to a DNATed connection needs the sysctls of node ${first.node}`,
      };
    }
    if (nf?.value !== 1) {
      return {
        ...base,
        outcome: "timeout",
        evidence: [
          nf?.evidence ?? { file: host.files.sysctl, text: "no net.bridge.bridge-nf-call-iptables line" },
        ],
        reason: `the reply is bridged on ${first.inInterface} of node ${first.node} without br_netfilter (net.bridge.bridge-nf-call-iptables ${nf === undefined ? "absent" : `= ${nf.value}`}): conntrack never un-NATs it, the client sees ${packet.dstIp} instead of ${ctx.dnatFrom.ip} and drops it`,
      };
    }
  }
  return { ...base, outcome: "delivered" };
}
