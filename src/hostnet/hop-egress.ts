/**
 * What happens to a routed packet on its way out of a node by a device that is not VXLAN (for that,
 * see hop-overlay.ts): the pod bridge (delivery to a local pod), or any other device (the underlay:
 * another node, or out of the cluster).
 */
import type { Packet } from "../model/trace.ts";
import { type Arrival, endText, type HopOutcome, type PathContext } from "./hop-context.ts";
import { neighborStep, neighborStop } from "./hop-neighbor.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";
import { addressOwner } from "./neighbor-resolve.ts";
import type { HostStep } from "./path-types.ts";

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
  const stop = neighborStop(r, steps, `node ${host.node}`, packet);
  if (stop !== undefined) return stop;
  const pod = ctx.pods.find((p) => p.ip === packet.dstIp && p.node === host.node);
  steps.push({
    kind: "deliver",
    node: host.node,
    device: dev.ifname,
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
  const stop = neighborStop(r, steps, `node ${host.node}`, arrival.packet);
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
    disposition: "exits-cluster",
    outInterface: dev.ifname,
    end: {
      outcome: "unknown",
      reason: `node ${host.node} sends ${arrival.packet.dstIp} out of ${dev.ifname} to ${nextHopIp}, outside the nodes of the bundle`,
    },
  };
}
