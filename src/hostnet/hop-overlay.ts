/**
 * Leaving by a VXLAN device: neighbour → FDB → outer UDP packet to the peer's VTEP, routed on the
 * underlay (or straight back in when the VTEP is one of this node's own addresses).
 */
import type { Packet } from "../model/trace.ts";
import {
  type Arrival,
  askFilter,
  filterStop,
  type HopOutcome,
  linkNamed,
  type PathContext,
} from "./hop-context.ts";
import { neighborStep, neighborStop } from "./hop-neighbor.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";
import { addressOwners } from "./neighbor-resolve.ts";
import { decapsulate, encapsulate, VXLAN_DEFAULT_PORT, VXLAN_OVERHEAD } from "./overlay-encap.ts";
import type { HostStep } from "./path-types.ts";
import { lookupRoute } from "./route-lookup.ts";

/** The VXLAN packet built for a frame: outer headers, the inner destination MAC, VNI and size. */
interface OuterPacket {
  readonly outer: Packet;
  readonly mac: string;
  readonly vni?: number;
  readonly bytes?: number;
}

/**
 * The VTEP is one of this node's own addresses: the kernel skips the encapsulation and hands the
 * inner frame straight back to the local VXLAN device with that VNI and port.
 */
function sendBackIn(
  host: HostEvidence,
  dev: IpLink,
  sent: OuterPacket,
  arrival: Arrival,
  route: {
    readonly steps: HostStep[];
    readonly outInterface: string;
    readonly evidence: HostStep["evidence"];
  },
): HopOutcome {
  const { outer } = sent;
  const { steps, evidence: routeEvidence } = route;
  const at = { steps, outInterface: route.outInterface };
  const d = decapsulate(
    host,
    {
      port: outer.dstPort ?? VXLAN_DEFAULT_PORT,
      ...(sent.vni === undefined ? {} : { vni: sent.vni }),
      innerDstMac: "",
    },
    { checkMac: false },
  );
  steps.push({
    kind: "overlay",
    node: host.node,
    direction: "decapsulate",
    device: d.ok ? d.dev.ifname : dev.ifname,
    outer,
    innerDstMac: sent.mac,
    action: d.ok
      ? `${outer.dstIp} is an address of node ${host.node}: no encapsulation, the frame goes straight back into ${d.dev.ifname}`
      : d.reason,
    evidence: [...routeEvidence, ...d.evidence],
  });
  if (!d.ok) return { ...at, disposition: "dropped", end: { outcome: "timeout", reason: d.reason } };
  return {
    ...at,
    disposition: "forwarded-overlay",
    next: {
      node: host.node,
      packet: arrival.packet,
      iif: d.dev.ifname,
      ...(sent.bytes === undefined ? {} : { bytes: sent.bytes }),
    },
  };
}

/**
 * The outer packet's way: routed on this node to a peer's underlay address, or to one of this
 * node's own addresses, in which case the kernel skips the encapsulation and hands the inner frame
 * straight to the local VXLAN device with that VNI and port, as received and whatever its MAC
 * (encap_bypass_if_local in drivers/net/vxlan: kernel-verified in the overlay lab).
 */
function sendOuter(
  host: HostEvidence,
  dev: IpLink,
  sent: OuterPacket,
  arrival: Arrival,
  ctx: PathContext,
  steps: HostStep[],
): HopOutcome {
  const { outer } = sent;
  const back = lookupRoute({ dst: outer.dstIp }, { rules: host.rule!.rules, routes: host.route!.routes });
  const at = { steps, outInterface: dev.ifname };
  if (back.kind === "local") return sendBackIn(host, dev, sent, arrival, { ...at, evidence: back.evidence });
  if (back.kind !== "unicast") {
    return {
      ...at,
      disposition: "dropped",
      end: {
        outcome: "timeout",
        reason: `node ${host.node} has no underlay route to the VTEP ${outer.dstIp} (${back.kind}): the VXLAN device drops the frame`,
      },
    };
  }
  const under = back.nextHop.dev;
  const f = askFilter(ctx, steps, {
    node: host.node,
    hook: "output",
    packet: outer,
    ...(under === undefined ? {} : { outInterface: under }),
  });
  const fstop = filterStop(f, steps, `on node ${host.node} (the VXLAN packet)`);
  if (fstop !== undefined) return fstop;
  const owners = addressOwners(ctx.hosts, outer.dstIp).filter((o) => o.node !== host.node);
  if (owners.length !== 1) {
    const reason =
      owners.length === 0
        ? `VXLAN to ${outer.dstIp}, which no node of the bundle has as an address (NAT, or a node without evidence)`
        : `VXLAN to ${outer.dstIp}, which nodes ${owners.map((o) => o.node).join(", ")} all have: which one gets it depends on the underlay`;
    return { ...at, disposition: "undecided", end: { outcome: "unknown", reason } };
  }
  const underMtu = under === undefined ? undefined : linkNamed(host, under)?.mtu;
  const outerBytes =
    sent.bytes === undefined
      ? undefined
      : Math.min(sent.bytes + VXLAN_OVERHEAD, underMtu ?? Number.POSITIVE_INFINITY);
  const vxlan = {
    outer,
    innerDstMac: sent.mac,
    ...(sent.vni === undefined ? {} : { vni: sent.vni }),
    ...(outerBytes === undefined ? {} : { outerBytes }),
    from: host.node,
  };
  return {
    ...at,
    disposition: "forwarded-overlay",
    next: {
      node: owners[0]!.node,
      packet: arrival.packet,
      ...(sent.bytes === undefined ? {} : { bytes: sent.bytes }),
      vxlan,
    },
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
  const stop = neighborStop(r, steps, `node ${host.node}`, arrival.packet);
  if (stop !== undefined) return stop;
  if (r.outcome.kind !== "resolved") {
    return {
      steps,
      disposition: "undecided",
      end: { outcome: "unknown", reason: `no MAC for ${nextHopIp}` },
    };
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
    if (enc.flood)
      return { steps, disposition: "undecided", end: { outcome: "unknown", reason: enc.reason } };
    return {
      steps,
      disposition: "dropped",
      outInterface: dev.ifname,
      end: { outcome: "timeout", reason: `node ${host.node}: ${enc.reason}` },
    };
  }
  // A packet larger than the overlay MTU is refused with ICMP "fragmentation needed" and sent again
  // smaller (path MTU discovery): what crosses the overlay is at most its MTU.
  const bytes =
    arrival.bytes !== undefined && dev.mtu !== undefined ? Math.min(arrival.bytes, dev.mtu) : arrival.bytes;
  const src =
    dev.vxlan?.local ??
    host.route?.routes.find((x) => x.dev === dev.vxlan?.link && x.prefsrc !== undefined)?.prefsrc ??
    "0.0.0.0";
  const outer: Packet = { ...enc.outer, srcIp: src };
  steps.push({
    kind: "overlay",
    node: host.node,
    direction: "encapsulate",
    device: dev.ifname,
    ...(enc.vni === undefined ? {} : { vni: enc.vni }),
    outer,
    innerDstMac: mac,
    action: `VXLAN${enc.vni === undefined ? "" : ` VNI ${enc.vni}`} to ${outer.dstIp}:${outer.dstPort} from ${outer.srcIp} (FDB ${mac} dst ${outer.dstIp})`,
    evidence: enc.evidence,
  });
  return sendOuter(
    host,
    dev,
    {
      outer,
      mac,
      ...(enc.vni === undefined ? {} : { vni: enc.vni }),
      ...(bytes === undefined ? {} : { bytes }),
    },
    arrival,
    ctx,
    steps,
  );
}
