/**
 * What happens to a routed packet on its way out of a node, by the kind of device it leaves by:
 * the pod bridge (delivery to a local pod), a VXLAN device (encapsulation towards a peer node), or
 * any other device (the underlay: another node, or out of the cluster).
 */
import type { Packet } from "../model/trace.ts";
import {
  type Arrival,
  askFilter,
  endText,
  filterStop,
  type HopOutcome,
  type PathContext,
} from "./hop-context.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";
import { addressOwner, type NeighborResolution, resolveNeighbor } from "./neighbor-resolve.ts";
import { encapsulate, VXLAN_OVERHEAD } from "./overlay-encap.ts";
import type { HostStep } from "./path-types.ts";
import { lookupRoute } from "./route-lookup.ts";

/** Records the neighbour step and returns the resolution. */
function neighborStep(
  host: HostEvidence,
  dev: IpLink,
  ip: string,
  ctx: PathContext,
  steps: HostStep[],
): NeighborResolution {
  const r = resolveNeighbor(host, dev, ip, ctx);
  const o = r.outcome;
  const words =
    o.kind === "resolved"
      ? `${ip} is ${o.lladdr} on ${dev.ifname}${o.static ? " (permanent)" : ""}`
      : o.kind === "pod-answers"
        ? `${ip} answers ARP on ${dev.ifname} (pod ${o.pod})`
        : o.kind === "node-answers"
          ? `${ip} answers ARP on ${dev.ifname} (node ${o.node})`
          : o.kind === "failed"
            ? `${ip} on ${dev.ifname}: ARP failed`
            : o.kind === "not-needed"
              ? `${dev.ifname} needs no ARP`
              : `${ip} on ${dev.ifname}: ${o.reason}`;
  steps.push({
    kind: "neighbor",
    node: host.node,
    dev: dev.ifname,
    ip,
    outcome: o,
    action: words,
    evidence: r.evidence,
  });
  return r;
}

/** The hop end of a neighbour that did not resolve, or undefined when it did. */
function neighborStop(r: NeighborResolution, steps: HostStep[], where: string): HopOutcome | undefined {
  const o = r.outcome;
  switch (o.kind) {
    case "resolved":
    case "pod-answers":
    case "node-answers":
    case "not-needed":
      return undefined;
    case "failed":
    case "nothing-answers":
      return {
        steps,
        disposition: "neighbor-unreachable",
        end: {
          outcome: "error",
          clientError: "EHOSTUNREACH",
          reason: `${where}: ${o.kind === "failed" ? "ARP failed" : o.reason}`,
        },
      };
    case "unknown":
      return { steps, disposition: "unknown", end: { outcome: "unknown", reason: `${where}: ${o.reason}` } };
    default: {
      const never: never = o;
      throw new TypeError(`Unknown neighbour outcome ${String(never)}`);
    }
  }
}

/** Leaves by the pod bridge: delivered when a pod of this node answers for the destination. */
export function egressBridge(
  host: HostEvidence,
  dev: IpLink,
  nextHopIp: string,
  packet: Packet,
  ctx: PathContext,
  steps: HostStep[],
): HopOutcome {
  const r = neighborStep(host, dev, nextHopIp, ctx, steps);
  const stop = neighborStop(r, steps, `node ${host.node}`);
  if (stop !== undefined) return stop;
  const pod = ctx.pods.find((p) => p.ip === packet.dstIp && p.node === host.node);
  steps.push({
    kind: "deliver",
    node: host.node,
    dev: dev.ifname,
    ...(pod === undefined ? {} : { pod: pod.pod }),
    action: `to ${endText(packet.dstIp, packet.dstPort)} on ${dev.ifname}${pod === undefined ? "" : ` (pod ${pod.pod})`}`,
    evidence: pod === undefined ? r.evidence : [pod.evidence],
  });
  return {
    steps,
    disposition: "delivered",
    outInterface: dev.ifname,
    end: { outcome: "delivered", reason: "" },
  };
}

/** Leaves by a VXLAN device: neighbour → FDB → outer UDP packet routed to the peer's VTEP. */
export function egressOverlay(
  host: HostEvidence,
  dev: IpLink,
  nextHopIp: string,
  arrival: Arrival,
  ctx: PathContext,
  steps: HostStep[],
): HopOutcome {
  const r = neighborStep(host, dev, nextHopIp, ctx, steps);
  const stop = neighborStop(r, steps, `node ${host.node}`);
  if (stop !== undefined) return stop;
  if (r.outcome.kind !== "resolved") {
    return { steps, disposition: "unknown", end: { outcome: "unknown", reason: `no MAC for ${nextHopIp}` } };
  }
  const mac = r.outcome.lladdr;
  const enc = encapsulate(host, dev, mac, arrival.packet);
  if (!enc.ok) {
    steps.push({
      kind: "overlay",
      node: host.node,
      direction: "encapsulate",
      device: dev.ifname,
      innerDstMac: mac,
      action: enc.reason,
      evidence: enc.evidence,
    });
    return enc.flood
      ? { steps, disposition: "unknown", end: { outcome: "unknown", reason: enc.reason } }
      : {
          steps,
          disposition: "dropped",
          outInterface: dev.ifname,
          end: { outcome: "timeout", reason: `node ${host.node}: ${enc.reason}` },
        };
  }
  let bytes = arrival.bytes;
  if (bytes !== undefined && dev.mtu !== undefined && bytes > dev.mtu) bytes = dev.mtu; // PMTU discovery
  const back = lookupRoute({ dst: enc.outer.dstIp }, { rules: host.rule!.rules, routes: host.route!.routes });
  const outer: Packet = {
    ...enc.outer,
    srcIp: dev.vxlan?.local ?? (back.kind === "unicast" ? (back.route.prefsrc ?? "0.0.0.0") : "0.0.0.0"),
  };
  steps.push({
    kind: "overlay",
    node: host.node,
    direction: "encapsulate",
    device: dev.ifname,
    ...(enc.vni === undefined ? {} : { vni: enc.vni }),
    outer,
    innerDstMac: mac,
    action: `VXLAN${enc.vni === undefined ? "" : ` VNI ${enc.vni}`} to ${outer.dstIp}:${outer.dstPort} from ${outer.srcIp} (FDB ${mac} dst ${outer.dstIp})`,
    evidence: [...enc.evidence, ...back.evidence],
  });
  if (back.kind !== "unicast" && back.kind !== "local") {
    return {
      steps,
      disposition: "dropped",
      outInterface: dev.ifname,
      end: {
        outcome: "timeout",
        reason: `node ${host.node} has no underlay route to the VTEP ${outer.dstIp} (${back.kind}): the VXLAN device drops the frame`,
      },
    };
  }
  const under = back.kind === "unicast" ? back.nextHop.dev : "lo";
  const f = askFilter(ctx, steps, {
    node: host.node,
    hook: "output",
    packet: outer,
    ...(under === undefined ? {} : { outInterface: under }),
  });
  const fstop = filterStop(f, steps, `on node ${host.node} (the VXLAN packet)`);
  if (fstop !== undefined) return fstop;
  const owner = addressOwner(ctx.hosts, outer.dstIp);
  if (owner === undefined) {
    return {
      steps,
      disposition: "unknown",
      outInterface: dev.ifname,
      end: {
        outcome: "unknown",
        reason: `VXLAN to ${outer.dstIp}, which no node of the bundle has as an address (NAT, or a node without evidence)`,
      },
    };
  }
  const underMtu = under === undefined ? undefined : host.link?.links.find((l) => l.ifname === under)?.mtu;
  const outerBytes =
    bytes === undefined ? undefined : Math.min(bytes + VXLAN_OVERHEAD, underMtu ?? Number.POSITIVE_INFINITY);
  return {
    steps,
    disposition: "forwarded-overlay",
    outInterface: dev.ifname,
    next: {
      node: owner.node,
      packet: arrival.packet,
      ...(bytes === undefined ? {} : { bytes }),
      vxlan: {
        outer,
        innerDstMac: mac,
        ...(enc.vni === undefined ? {} : { vni: enc.vni }),
        ...(outerBytes === undefined ? {} : { outerBytes }),
        from: host.node,
      },
    },
  };
}

/** Leaves by another device: to another node of the bundle, or out of the cluster. */
export function egressUnderlay(
  host: HostEvidence,
  dev: IpLink,
  nextHopIp: string,
  arrival: Arrival,
  ctx: PathContext,
  steps: HostStep[],
): HopOutcome {
  const r = neighborStep(host, dev, nextHopIp, ctx, steps);
  const stop = neighborStop(r, steps, `node ${host.node}`);
  if (stop !== undefined) return stop;
  const owner = addressOwner(ctx.hosts, nextHopIp);
  if (owner !== undefined && owner.node !== host.node) {
    return {
      steps,
      disposition: "forwarded-underlay",
      outInterface: dev.ifname,
      next: {
        node: owner.node,
        packet: arrival.packet,
        iif: owner.ifname,
        ...(arrival.bytes === undefined ? {} : { bytes: arrival.bytes }),
      },
    };
  }
  return {
    steps,
    disposition: "exits",
    outInterface: dev.ifname,
    end: {
      outcome: "unknown",
      reason: `node ${host.node} sends ${arrival.packet.dstIp} out of ${dev.ifname} to ${nextHopIp}, outside the nodes of the bundle`,
    },
  };
}
