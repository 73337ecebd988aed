/**
 * MTUs of the overlay path. flannel sets the VXLAN device and `FLANNEL_MTU` to the underlay MTU
 * minus 50 (pkg/backend/vxlan: encapOverhead = 50), and its CNI config gives cni0 and the pods that
 * MTU. An encapsulated packet larger than an underlay link on the way is dropped on that link with
 * no ICMP: small packets pass, large ones hang (a black hole that PMTU discovery cannot see).
 */
import type { Evidence } from "../model/finding.ts";
import { type HostnetFinding, hostnetFinding } from "./hostnet-finding.ts";
import type { IpLink } from "./ip-link.ts";
import { VXLAN_OVERHEAD } from "./overlay-encap.ts";
import type { OverlayNode } from "./overlay-view.ts";

/** The underlay link a VXLAN device sends by: its bound device, else the one that holds its local IP. */
export function underlayOf(n: OverlayNode): IpLink | undefined {
  const links = n.host?.link?.links ?? [];
  const bound = n.vtep?.vxlan?.link;
  if (bound !== undefined) return links.find((l) => l.ifname === bound);
  const local = n.vtep?.vxlan?.local;
  const holder = n.host?.addr?.interfaces.find((i) => i.addresses.some((a) => a.local === local));
  return holder === undefined ? undefined : links.find((l) => l.ifname === holder.ifname);
}

/** The link that receives a node's VXLAN traffic: the one holding its public-ip (else its underlay). */
function receivingLink(n: OverlayNode): IpLink | undefined {
  const ip = n.api.publicIp;
  const holder = n.host?.addr?.interfaces.find((i) => i.addresses.some((a) => a.local === ip));
  const links = n.host?.link?.links ?? [];
  return holder === undefined ? underlayOf(n) : links.find((l) => l.ifname === holder.ifname);
}

function mtuFinding(
  node: string,
  message: string,
  evidence: readonly Evidence[],
  severity: "error" | "warning",
): HostnetFinding {
  return hostnetFinding("overlay-mtu-mismatch", {
    severity,
    node,
    message,
    evidence,
    fix: "Set every node's overlay MTU to the smallest underlay MTU minus 50 (flannel derives it from its interface at start: restart flannel after changing a NIC's MTU)",
  });
}

function checkOwn(n: OverlayNode, out: HostnetFinding[]): void {
  const v = n.vtep!;
  const under = underlayOf(n);
  const name = `node "${n.api.name}"`;
  if (v.mtu !== undefined && under?.mtu !== undefined && v.mtu + VXLAN_OVERHEAD > under.mtu) {
    out.push(
      mtuFinding(
        n.api.name,
        `${v.ifname} on ${name} has MTU ${v.mtu}, but its underlay ${under.ifname} has ${under.mtu}: encapsulated packets of ${v.mtu + VXLAN_OVERHEAD} bytes do not fit (expected at most ${under.mtu - VXLAN_OVERHEAD})`,
        [v.evidence, under.evidence],
        "error",
      ),
    );
  }
  const cni = n.host?.link?.links.find((l) => l.ifname === "cni0");
  if (cni?.mtu !== undefined && v.mtu !== undefined && cni.mtu > v.mtu) {
    out.push(
      mtuFinding(
        n.api.name,
        `cni0 on ${name} has MTU ${cni.mtu}, larger than ${v.ifname} (${v.mtu}): pods send packets the overlay must refuse with ICMP "fragmentation needed", which breaks when that ICMP is filtered`,
        [cni.evidence, v.evidence],
        "warning",
      ),
    );
  }
  const env = n.host?.subnetEnv?.mtu;
  if (env !== undefined && v.mtu !== undefined && env.value !== v.mtu) {
    out.push(
      mtuFinding(
        n.api.name,
        `FLANNEL_MTU on ${name} is ${env.value}, but ${v.ifname} has MTU ${v.mtu}: pods created from subnet.env get a different MTU than the overlay`,
        [env.evidence, v.evidence],
        "warning",
      ),
    );
  }
}

/** The pairwise check: what `self` sends must fit the link `peer` receives it on. */
function checkPair(self: OverlayNode, peer: OverlayNode, out: HostnetFinding[]): void {
  const v = self.vtep!;
  const recv = receivingLink(peer);
  if (v.mtu === undefined || recv?.mtu === undefined || v.mtu + VXLAN_OVERHEAD <= recv.mtu) return;
  out.push(
    mtuFinding(
      self.api.name,
      `node "${self.api.name}" sends VXLAN packets of up to ${v.mtu + VXLAN_OVERHEAD} bytes (${v.ifname} MTU ${v.mtu} + ${VXLAN_OVERHEAD}), but node "${peer.api.name}" receives them on ${recv.ifname} with MTU ${recv.mtu}: large packets to its pods are dropped without ICMP`,
      [v.evidence, recv.evidence],
      "error",
    ),
  );
}

/** MTU checks on every VXLAN node with link evidence, and for every pair of them. */
export function checkMtu(nodes: readonly OverlayNode[]): HostnetFinding[] {
  const out: HostnetFinding[] = [];
  const ready = nodes.filter((n) => n.vtep !== undefined && n.host?.link !== undefined);
  for (const n of ready) checkOwn(n, out);
  for (const self of ready) for (const peer of ready) if (peer !== self) checkPair(self, peer, out);
  return out;
}
