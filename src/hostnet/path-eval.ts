/**
 * A packet's path across nodes from host evidence, hop by hop, and a connection as both of its
 * directions: a pod on node A → (routing, forwarding, rp_filter, FORWARD) → flannel.1 → neighbour
 * → FDB → UDP 8472 to node B → (INPUT, rp_filter, MTU, VTEP MAC) → routing on B → cni0 → the pod.
 */
import type { Evidence } from "../model/finding.ts";
import type { Packet } from "../model/trace.ts";
import { type Arrival, askFilter, endText, icmpEnd, linkNamed, type PathContext } from "./hop-context.ts";
import { evaluateHop } from "./hop-eval.ts";
import type { Hop, HostStep, PathResult } from "./path-types.ts";
import { lookupRoute } from "./route-lookup.ts";
import { sysctlNumber } from "./sysctl.ts";

/** Where the packet starts: a pod on a node (enters by the pod bridge), or the node itself. */
export interface Origin {
  readonly node: string;
  readonly ingress: "pod" | "host";
}

/** More hops than this means a routing loop (the TTL would run out first in reality, too). */
const MAX_HOPS = 8;

/** The interface a pod's packet comes in by: the device of the connected route to its address. */
function podInterface(ctx: PathContext, origin: Origin, src: string): string | undefined {
  const host = ctx.hosts.get(origin.node);
  if (host?.route === undefined || host.rule === undefined) return undefined;
  const d = lookupRoute({ dst: src }, { rules: host.rule.rules, routes: host.route.routes });
  return d.kind === "unicast" && d.nextHop.gateway === undefined ? d.nextHop.dev : undefined;
}

/**
 * Two pods on one bridge talk at layer 2: the node does not route, and its FORWARD chain sees the
 * packet only when br_netfilter hands bridged traffic to iptables (bridge-nf-call-iptables = 1).
 */
function bridgedHop(packet: Packet, origin: Origin, iif: string, ctx: PathContext): Hop | undefined {
  const host = ctx.hosts.get(origin.node)!;
  const d = lookupRoute({ dst: packet.dstIp }, { rules: host.rule!.rules, routes: host.route!.routes });
  if (d.kind !== "unicast" || d.nextHop.gateway !== undefined || d.nextHop.dev !== iif) return undefined;
  if (linkNamed(host, iif)?.kind !== "bridge") return undefined;
  const steps: HostStep[] = [];
  const pod = ctx.pods.find((p) => p.ip === packet.dstIp && p.node === origin.node);
  const nf =
    host.sysctl === undefined ? undefined : sysctlNumber(host.sysctl, "net.bridge.bridge-nf-call-iptables");
  if (nf?.value === 1) {
    const f = askFilter(ctx, steps, {
      node: origin.node,
      hook: "forward",
      packet,
      inInterface: iif,
      outInterface: iif,
    });
    if (f !== undefined && f.verdict !== "accept") {
      return {
        node: origin.node,
        inInterface: iif,
        outInterface: iif,
        steps,
        disposition: f.verdict === "drop" ? "dropped" : f.verdict === "reject" ? "rejected" : "undecided",
        reason: f.action,
      };
    }
  }
  const evidence: Evidence[] = pod === undefined ? [...d.evidence] : [pod.evidence];
  steps.push({
    kind: "deliver",
    node: origin.node,
    device: iif,
    ...(pod === undefined ? {} : { pod: pod.pod }),
    action: `bridged on ${iif} to ${endText(packet.dstIp, packet.dstPort)}${pod === undefined ? ": no running pod has this address" : ` (pod ${pod.pod})`}`,
    evidence,
  });
  return {
    node: origin.node,
    inInterface: iif,
    outInterface: iif,
    steps,
    disposition: pod === undefined ? "neighbor-unreachable" : "delivered",
  };
}

function bridgedResult(packet: Packet, hop: Hop): PathResult {
  switch (hop.disposition) {
    case "delivered":
      return { packet, hops: [hop], outcome: "delivered" };
    case "neighbor-unreachable":
      return {
        packet,
        hops: [hop],
        outcome: "error",
        clientError: "EHOSTUNREACH",
        reason: `no pod on node ${hop.node} answers for ${packet.dstIp}`,
      };
    case "dropped":
      return {
        packet,
        hops: [hop],
        outcome: "timeout",
        reason: `dropped by ${hop.reason} on node ${hop.node} (bridged)`,
      };
    default:
      return { packet, hops: [hop], outcome: "unknown", reason: hop.reason ?? "filter undecided" };
  }
}

/**
 * Follows one packet from `origin` until it is delivered, dropped, refused or undecided.
 *
 * @example
 * ```ts
 * const r = evaluatePath({ protocol: "tcp", srcIp: "198.18.1.10", dstIp: "198.18.2.10", dstPort: 80 },
 *   { ...ctx, origin: { node: "node-a", ingress: "pod" } });
 * r.outcome; // "delivered"; r.hops.map((h) => h.node) → ["node-a", "node-b"]
 * ```
 */
export function evaluatePath(packet: Packet, ctx: PathContext & { readonly origin: Origin }): PathResult {
  const { origin } = ctx;
  let iif: string | undefined;
  if (origin.ingress === "pod") {
    iif = podInterface(ctx, origin, packet.srcIp);
    if (iif === undefined) {
      const host = ctx.hosts.get(origin.node);
      const files = host === undefined ? [`nodes/${origin.node}/`] : [host.files.route, host.files.rule];
      return {
        packet,
        hops: [],
        outcome: "unknown",
        reason: `node ${origin.node} has no connected route to the pod address ${packet.srcIp}`,
        missing: host?.missing.length ? files : [],
      };
    }
    const bridged = bridgedHop(packet, origin, iif, ctx);
    if (bridged !== undefined) return bridgedResult(packet, bridged);
  }
  const hops: Hop[] = [];
  let arrival: Arrival | undefined = {
    node: origin.node,
    packet,
    ...(iif === undefined ? {} : { iif }),
    ...(ctx.packetBytes === undefined ? {} : { bytes: ctx.packetBytes }),
  };
  const seen = new Set<string>();
  while (arrival !== undefined) {
    // The same packet coming into the same node the same way again is a forwarding loop: it goes
    // round until its TTL runs out and the node answers ICMP "time exceeded".
    const key = `${arrival.node}|${arrival.iif ?? ""}|${arrival.vxlan?.outer.dstIp ?? ""}`;
    if (seen.has(key)) {
      const end = icmpEnd("time-exceeded", packet, {
        synchronous: false,
        reason: `forwarding loop through ${hops.map((h) => `${h.node}${h.outInterface === undefined ? "" : ` (${h.outInterface})`}`).join(", ")}: the TTL runs out`,
      });
      return {
        packet,
        hops,
        outcome: end.outcome,
        ...(end.clientError === undefined ? {} : { clientError: end.clientError }),
        reason: end.reason,
      };
    }
    seen.add(key);
    if (hops.length >= MAX_HOPS) {
      return {
        packet,
        hops,
        outcome: "unknown",
        reason: `more than ${MAX_HOPS} hops: a routing loop between ${hops.map((h) => h.node).join(", ")}`,
      };
    }
    const out = evaluateHop(arrival, ctx);
    const inIf = arrival.vxlan === undefined ? arrival.iif : undefined;
    hops.push({
      node: arrival.node,
      ...(inIf === undefined ? {} : { inInterface: inIf }),
      ...(out.outInterface === undefined ? {} : { outInterface: out.outInterface }),
      steps: out.steps,
      disposition: out.disposition,
      ...(out.next === undefined ? {} : { next: out.next.node }),
      ...(out.end === undefined || out.end.reason === "" ? {} : { reason: out.end.reason }),
    });
    if (out.end !== undefined) {
      return {
        packet,
        hops,
        outcome: out.end.outcome,
        ...(out.end.clientError === undefined ? {} : { clientError: out.end.clientError }),
        ...(out.end.reason === "" ? {} : { reason: out.end.reason }),
        ...(out.missing === undefined ? {} : { missing: out.missing }),
      };
    }
    arrival = out.next;
  }
  return { packet, hops, outcome: "unknown", reason: "the path ended without a disposition" };
}
