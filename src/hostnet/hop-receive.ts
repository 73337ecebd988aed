/**
 * A VXLAN packet arriving at a node: INPUT for the UDP packet, the receiving link's MTU,
 * reverse-path filtering on the underlay, then the VXLAN device for that VNI and port, which takes
 * the frame only when it is addressed to the device's MAC.
 */

import {
  type Arrival,
  askFilter,
  filterStop,
  type HopOutcome,
  linkNamed,
  missingFiles,
  type PathContext,
  undecided,
} from "./hop-context.ts";
import { reversePathCheck } from "./hop-ingress.ts";
import type { HostEvidence } from "./host-evidence.ts";
import { decapsulate, VXLAN_DEFAULT_PORT } from "./overlay-encap.ts";
import type { HostStep } from "./path-types.ts";

/** Receives a VXLAN packet: INPUT for UDP 8472, rp_filter and MTU on the underlay, then the device. */
export function receiveVxlan(
  host: HostEvidence,
  arrival: Arrival & { vxlan: NonNullable<Arrival["vxlan"]> },
  ctx: PathContext,
  steps: HostStep[],
): { iif: string } | HopOutcome {
  const { outer } = arrival.vxlan;
  const recv = host.addr?.interfaces.find((i) => i.addresses.some((a) => a.local === outer.dstIp));
  const recvIf = recv?.ifname ?? "lo";
  const f = askFilter(ctx, steps, { node: host.node, hook: "input", packet: outer, inInterface: recvIf });
  const fstop = filterStop(f, steps, `on node ${host.node} (the VXLAN packet from ${arrival.vxlan.from})`);
  if (fstop !== undefined) return fstop;
  const recvLink = linkNamed(host, recvIf);
  const size = arrival.vxlan.outerBytes;
  if (size !== undefined && recvLink?.mtu !== undefined && size > recvLink.mtu) {
    const reason = `the VXLAN packet from ${arrival.vxlan.from} is ${size} bytes, larger than ${recvIf}'s MTU ${recvLink.mtu} on node ${host.node}: dropped on the link, no ICMP`;
    steps.push({
      kind: "overlay",
      node: host.node,
      direction: "decapsulate",
      device: recvIf,
      outer,
      action: reason,
      evidence: [recvLink.evidence],
    });
    return { steps, disposition: "dropped", end: { outcome: "timeout", reason } };
  }
  if (recvIf !== "lo") {
    const rp = reversePathCheck(host, recvIf, outer.srcIp, outer.dstIp);
    if (rp === undefined)
      return undecided(steps, missingFiles(host, ["sysctl", "route", "rule"]) ?? [], "rp_filter");
    if (!rp.pass) {
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
  }
  const d = decapsulate(host, {
    port: outer.dstPort ?? VXLAN_DEFAULT_PORT,
    ...(arrival.vxlan.vni === undefined ? {} : { vni: arrival.vxlan.vni }),
    innerDstMac: arrival.vxlan.innerDstMac,
  });
  steps.push({
    kind: "overlay",
    node: host.node,
    direction: "decapsulate",
    device: d.ok ? d.dev.ifname : recvIf,
    outer,
    innerDstMac: arrival.vxlan.innerDstMac,
    action: d.ok ? `VXLAN from ${outer.srcIp} into ${d.dev.ifname}` : d.reason,
    evidence: d.evidence,
  });
  if (!d.ok) return { steps, disposition: "dropped", end: { outcome: "timeout", reason: d.reason } };
  return { iif: d.dev.ifname };
}
