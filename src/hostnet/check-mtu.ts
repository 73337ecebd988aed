/**
 * MTUs of the overlay path. flannel sets the VXLAN device and `FLANNEL_MTU` to the underlay MTU
 * minus 50 (pkg/backend/vxlan: encapOverhead = 50), and its CNI config gives cni0 and the pods that
 * MTU. An encapsulated packet larger than an underlay link on the way is dropped on that link with
 * no ICMP: small packets pass, large ones hang (a black hole that PMTU discovery cannot see).
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
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

function checkOwn(n: OverlayNode, out: Finding[]): void {
  const v = n.vtep!;
  const node = n.api.name;
  const under = underlayOf(n);
  if (v.mtu !== undefined && under?.mtu !== undefined && v.mtu + VXLAN_OVERHEAD > under.mtu) {
    const values = {
      kind: "own" as const,
      node,
      dev: v.ifname,
      mtu: v.mtu,
      underlay: under.ifname,
      underlayMtu: under.mtu,
    };
    out.push(makeFinding("overlay-mtu-mismatch", values, { node, evidence: [v.evidence, under.evidence] }));
  }
  const cni = n.host?.link?.links.find((l) => l.ifname === "cni0");
  if (cni?.mtu !== undefined && v.mtu !== undefined && cni.mtu > v.mtu) {
    const values = { kind: "cni0" as const, node, dev: v.ifname, mtu: v.mtu, cniMtu: cni.mtu };
    out.push(makeFinding("overlay-mtu-mismatch", values, { node, evidence: [cni.evidence, v.evidence] }));
  }
  const env = n.host?.subnetEnv?.mtu;
  if (env !== undefined && v.mtu !== undefined && env.value !== v.mtu) {
    const values = { kind: "subnet-env" as const, node, dev: v.ifname, mtu: v.mtu, envMtu: env.value };
    out.push(makeFinding("overlay-mtu-mismatch", values, { node, evidence: [env.evidence, v.evidence] }));
  }
}

/** The pairwise check: what `self` sends must fit the link `peer` receives it on. */
function checkPair(self: OverlayNode, peer: OverlayNode, out: Finding[]): void {
  const v = self.vtep!;
  const recv = receivingLink(peer);
  if (v.mtu === undefined || recv?.mtu === undefined || v.mtu + VXLAN_OVERHEAD <= recv.mtu) return;
  const node = self.api.name;
  const values = {
    kind: "peer" as const,
    node,
    peer: peer.api.name,
    dev: v.ifname,
    mtu: v.mtu,
    receiver: recv.ifname,
    receiverMtu: recv.mtu,
  };
  out.push(makeFinding("overlay-mtu-mismatch", values, { node, evidence: [v.evidence, recv.evidence] }));
}

/** MTU checks on every VXLAN node with link evidence, and for every pair of them. */
export function checkMtu(nodes: readonly OverlayNode[]): Finding[] {
  const out: Finding[] = [];
  const ready = nodes.filter((n) => n.vtep !== undefined && n.host?.link !== undefined);
  for (const n of ready) checkOwn(n, out);
  for (const self of ready) for (const peer of ready) if (peer !== self) checkPair(self, peer, out);
  return out;
}
