/**
 * One node's part of a path: receive (decapsulate a VXLAN frame when it comes as one), route, check
 * forwarding and reverse-path filtering, ask the iptables side at FORWARD/INPUT, and leave by the
 * chosen device (see hop-egress.ts).
 */

import type { Packet } from "../model/trace.ts";
import {
  type Arrival,
  askFilter,
  endText,
  filterStop,
  type HopOutcome,
  icmpEnd,
  linkNamed,
  missingFiles,
  type PathContext,
  undecided,
} from "./hop-context.ts";
import { egressBridge, egressUnderlay } from "./hop-egress.ts";
import { forwardingEnabled, reversePathCheck } from "./hop-ingress.ts";
import { egressOverlay } from "./hop-overlay.ts";
import { receiveVxlan } from "./hop-receive.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { HostStep } from "./path-types.ts";
import { lookupRoute, type RouteDecision } from "./route-lookup.ts";

function routingWords(d: RouteDecision): string {
  switch (d.kind) {
    case "unicast": {
      const h = d.nextHop;
      return `route ${d.route.dst}${h.gateway === undefined ? "" : ` via ${h.gateway}`}${h.dev === undefined ? "" : ` dev ${h.dev}`}${h.onlink ? " onlink" : ""} (table ${d.table})`;
    }
    case "local":
      return `local address (${d.route.dst})`;
    case "blocked":
      return `${d.how} route or rule`;
    case "broadcast":
      return `broadcast or multicast (${d.route.dst})`;
    case "none":
      return "no route";
    case "unknown":
      return d.reason;
    default: {
      const never: never = d;
      throw new TypeError(`Unknown route decision ${String(never)}`);
    }
  }
}

/** The end of a path that found no usable route. */
/** The end of a path that found no usable route (ip_error() in net/ipv4/route.c for forwarded packets). */
function noRoute(
  d: RouteDecision,
  at: { forwardingOff: boolean; iif: string | undefined; packet: Packet },
  steps: HostStep[],
  node: string,
): HopOutcome {
  if (at.forwardingOff) {
    return {
      steps,
      disposition: "dropped",
      end: { outcome: "timeout", reason: `node ${node} has no route and does not forward (no ICMP is sent)` },
    };
  }
  const synchronous = at.iif === undefined;
  switch (d.kind) {
    case "none":
      return {
        steps,
        disposition: "no-route",
        end: icmpEnd("net-unreachable", at.packet, {
          synchronous,
          reason: `node ${node} has no route to ${at.packet.dstIp}`,
        }),
      };
    case "blocked":
      if (d.how === "blackhole")
        return {
          steps,
          disposition: "dropped",
          end: { outcome: "timeout", reason: `node ${node}: blackhole route` },
        };
      return {
        steps,
        disposition: "no-route",
        end: icmpEnd(d.how === "prohibit" ? "admin-prohibited" : "host-unreachable", at.packet, {
          synchronous,
          reason: `node ${node}: ${d.how} route`,
        }),
      };
    default:
      return {
        steps,
        disposition: "undecided",
        end: { outcome: "unknown", reason: `node ${node}: ${routingWords(d)}` },
      };
  }
}

/**
 * The routing decision with the kernel's ingress checks: records the routing step, and ends the hop
 * when there is no usable route, forwarding is off on the input interface, or rp_filter refuses
 * the source. Undefined when the packet may go on.
 */
function route(
  host: HostEvidence,
  d: RouteDecision,
  iif: string | undefined,
  packet: Packet,
  steps: HostStep[],
): HopOutcome | undefined {
  const fwd = iif === undefined ? undefined : forwardingEnabled(host, iif);
  if (iif !== undefined && d.kind === "unicast" && fwd === undefined)
    return undecided(steps, [host.files.sysctl], "forwarding");
  const forwardingOff = fwd !== undefined && !fwd.enabled && d.kind !== "local";
  steps.push({
    kind: "routing",
    node: host.node,
    decision: forwardingOff ? "forwarding-disabled" : d.kind,
    action: forwardingOff
      ? `${routingWords(d)}; forwarding is off on ${iif}: dropped without ICMP`
      : routingWords(d),
    evidence: [
      ...d.evidence,
      ...(d.kind === "none" ? [{ file: host.files.route, text: `no route matches ${packet.dstIp}` }] : []),
      ...(forwardingOff ? [fwd!.evidence] : []),
    ],
  });
  if (d.kind !== "unicast" && d.kind !== "local")
    return noRoute(d, { forwardingOff, iif, packet }, steps, host.node);
  if (forwardingOff) {
    const reason = `node ${host.node} does not forward packets that come in on ${iif} (${fwd!.evidence.text})`;
    return { steps, disposition: "dropped", end: { outcome: "timeout", reason } };
  }
  if (iif === undefined) return undefined;
  const rp = reversePathCheck(host, iif, packet.srcIp, packet.dstIp);
  if (rp === undefined) return undecided(steps, [host.files.sysctl], "rp_filter");
  if (rp.pass) return undefined;
  steps.push({
    kind: "routing",
    node: host.node,
    decision: "rp-filter-drop",
    action: rp.reason,
    evidence: rp.evidence,
  });
  return {
    steps,
    disposition: "dropped",
    end: { outcome: "timeout", reason: `node ${host.node}: ${rp.reason}` },
  };
}

/** For the node itself: INPUT, then delivered. */
function deliverLocal(
  host: HostEvidence,
  d: RouteDecision,
  at: { iif: string | undefined; packet: Packet },
  ctx: PathContext,
  steps: HostStep[],
): HopOutcome {
  const { iif, packet } = at;
  const f = askFilter(ctx, steps, {
    node: host.node,
    hook: "input",
    packet,
    ...(iif === undefined ? {} : { inInterface: iif }),
  });
  const stop = filterStop(f, steps, `on node ${host.node}`);
  if (stop !== undefined) return stop;
  steps.push({
    kind: "deliver",
    node: host.node,
    action: `to node ${host.node} itself (${endText(packet.dstIp, packet.dstPort)})`,
    evidence: d.evidence,
  });
  return { steps, disposition: "delivered-locally", end: { outcome: "delivered", reason: "" } };
}

/** Out by the route's device: FORWARD, then the device kind decides (see hop-egress.ts). */
function forward(
  host: HostEvidence,
  d: RouteDecision & { kind: "unicast" },
  arrival: Arrival,
  ctx: PathContext,
  steps: HostStep[],
): HopOutcome {
  const { packet, iif } = arrival;
  const dev = linkNamed(host, d.nextHop.dev);
  if (dev === undefined) {
    const reason = `node ${host.node}: the route's device ${d.nextHop.dev ?? "(none)"} is not in ${host.files.link}`;
    return { steps, disposition: "undecided", end: { outcome: "unknown", reason } };
  }
  if (iif !== undefined) {
    const f = askFilter(ctx, steps, {
      node: host.node,
      hook: "forward",
      packet,
      inInterface: iif,
      outInterface: dev.ifname,
    });
    const stop = filterStop(f, steps, `on node ${host.node}`);
    if (stop !== undefined) return stop;
  }
  const nextHopIp = d.nextHop.gateway ?? packet.dstIp;
  if (dev.kind === "vxlan") {
    const m = missingFiles(host, ["neigh", "fdb"]);
    return m === undefined
      ? egressOverlay(host, dev, nextHopIp, arrival, ctx, steps)
      : undecided(steps, m, "overlay");
  }
  if (host.missing.includes("neigh")) return undecided(steps, [host.files.neigh], "neighbour");
  if (dev.kind === "bridge") return egressBridge(host, dev, nextHopIp, packet, ctx, steps);
  return egressUnderlay(host, dev, nextHopIp, arrival, ctx, steps);
}

/**
 * Evaluates one node's part of a path.
 *
 * @example
 * ```ts
 * const out = evaluateHop({ node: "a", packet, iif: "cni0" }, ctx);
 * out.disposition; // "forwarded-overlay"; out.next?.node === "b"
 * ```
 */
export function evaluateHop(arrival: Arrival, ctx: PathContext): HopOutcome {
  const steps: HostStep[] = [];
  const host = ctx.hosts.get(arrival.node);
  if (host === undefined)
    return undecided(steps, [`nodes/${arrival.node}/`], `no evidence for node ${arrival.node}`);
  const need = missingFiles(host, ["addr", "link", "route", "rule", "sysctl"]);
  if (need !== undefined) return undecided(steps, need, `node ${host.node}`);
  let iif = arrival.iif;
  if (arrival.vxlan !== undefined) {
    const r = receiveVxlan(host, { ...arrival, vxlan: arrival.vxlan }, ctx, steps);
    if (!("iif" in r)) return r;
    iif = r.iif;
  }
  const { packet } = arrival;
  const d = lookupRoute(
    { dst: packet.dstIp, src: packet.srcIp, ...(iif === undefined ? {} : { iif }) },
    { rules: host.rule!.rules, routes: host.route!.routes },
  );
  const stop = route(host, d, iif, packet, steps);
  if (stop !== undefined) return stop;
  if (d.kind === "local") return deliverLocal(host, d, { iif, packet }, ctx, steps);
  if (d.kind !== "unicast") throw new TypeError(`Cannot forward after a "${d.kind}" route decision`);
  const here: Arrival = {
    node: arrival.node,
    packet,
    ...(iif === undefined ? {} : { iif }),
    ...(arrival.bytes === undefined ? {} : { bytes: arrival.bytes }),
  };
  return forward(host, d, here, ctx, steps);
}
