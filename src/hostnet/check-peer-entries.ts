/**
 * What flannel's VXLAN backend installs on every node for every peer lease, checked against the
 * peer's API object (pkg/backend/vxlan/vxlan_network.go, handleSubnetEvents):
 * - a route `PEER-PODCIDR via PEER-OVERLAY-IP dev flannel.1 onlink`;
 * - a PERMANENT neighbour entry `PEER-OVERLAY-IP lladdr PEER-VTEPMAC dev flannel.1`;
 * - an FDB entry `PEER-VTEPMAC dev flannel.1 dst PEER-PUBLIC-IP self permanent`.
 * A stale entry after a peer's VTEP MAC changed is flannel-io/flannel#533, #1036, #1788.
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import { formatIpv4, inCidr } from "../net/ipv4.ts";
import { overlayAddress } from "./flannel-node.ts";
import { distinctEvidence, fileEvidence } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";
import { lookupRoute } from "./route-lookup.ts";

/** The route check for one (node, peer) pair. */
function checkRoute(self: OverlayNode, peer: OverlayNode, out: Finding[]): void {
  const host = self.host!;
  const vtep = self.vtep!;
  const cidr = peer.api.podCidrNet!;
  const podCidr = peer.api.podCidr!;
  const gw = overlayAddress(peer.api)!;
  const at = { node: self.api.name, peer: peer.api.name, podCidr };
  const exact = host.route!.routes.find(
    (r) =>
      r.family === "inet" &&
      r.table === "main" &&
      r.cidr?.base === cidr.base &&
      r.cidr.prefix === cidr.prefix,
  );
  if (exact === undefined) {
    const probe = formatIpv4((cidr.base + 1) >>> 0);
    const d =
      host.rule === undefined
        ? undefined
        : lookupRoute({ dst: probe, iif: "cni0" }, { rules: host.rule.rules, routes: host.route!.routes });
    const instead =
      d === undefined
        ? undefined
        : d.kind === "unicast"
          ? `it would leave by ${d.nextHop.dev ?? "?"}`
          : `the lookup ends in "${d.kind}"`;
    const evidence = [
      fileEvidence(host.files.route, `no route to ${podCidr} in table main`),
      ...(d?.evidence ?? []),
      peer.api.evidence,
    ];
    out.push(
      makeFinding(
        "overlay-route-missing",
        { ...at, ...(instead === undefined ? {} : { instead }) },
        { node: self.api.name, evidence: distinctEvidence(evidence) },
      ),
    );
    return;
  }
  // DirectRouting: peers on the same subnet are reached without VXLAN, via their public IP.
  if (exact.gateway === peer.api.publicIp && exact.dev !== vtep.ifname) return;
  const problems: string[] = [];
  if (exact.dev !== vtep.ifname) problems.push(`device ${exact.dev ?? "(none)"} instead of ${vtep.ifname}`);
  if (exact.gateway !== gw) problems.push(`gateway ${exact.gateway ?? "(none)"} instead of ${gw}`);
  if (!exact.flags.includes("onlink")) problems.push(`no "onlink" flag`);
  if (exact.type !== "unicast") problems.push(`type ${exact.type}`);
  if (problems.length === 0) return;
  const expected = `${podCidr} via ${gw} dev ${vtep.ifname} onlink`;
  out.push(
    makeFinding(
      "overlay-route-wrong",
      { ...at, problems, expected },
      { node: self.api.name, evidence: [exact.evidence, peer.api.evidence] },
    ),
  );
}

/** The neighbour check for one (node, peer) pair. */
function checkNeighbor(self: OverlayNode, peer: OverlayNode, out: Finding[]): void {
  const host = self.host!;
  const dev = self.vtep!.ifname;
  const overlayIp = overlayAddress(peer.api)!;
  const values = { node: self.api.name, peer: peer.api.name, overlayIp, dev, mac: peer.api.vtepMac! };
  const peerSide = [peer.api.evidence, ...(peer.vtep === undefined ? [] : [peer.vtep.evidence])];
  const n = host.neigh!.neighbors.find((x) => x.dst === overlayIp && x.dev === dev);
  // A FAILED or INCOMPLETE entry is what the kernel leaves after asking ARP in vain: flannel's
  // PERMANENT entry is missing all the same.
  if (n === undefined || n.lladdr === undefined) {
    const evidence = [
      n?.evidence ?? fileEvidence(host.files.neigh, `no entry for ${overlayIp} dev ${dev}`),
      ...peerSide,
    ];
    out.push(
      makeFinding(
        "overlay-neighbor-missing",
        { ...values, ...(n === undefined ? {} : { found: n.state.join(",") }) },
        { node: self.api.name, evidence },
      ),
    );
  } else if (n.lladdr !== values.mac) {
    out.push(
      makeFinding(
        "overlay-neighbor-stale",
        { ...values, found: n.lladdr },
        { node: self.api.name, evidence: [n.evidence, ...peerSide] },
      ),
    );
  }
}

/** The FDB check for one (node, peer) pair. */
function checkFdb(self: OverlayNode, peer: OverlayNode, out: Finding[]): void {
  const host = self.host!;
  const dev = self.vtep!.ifname;
  const mac = peer.api.vtepMac!;
  const publicIp = peer.api.publicIp!;
  const values = { node: self.api.name, peer: peer.api.name, mac, dev, publicIp };
  const peerSide = [peer.api.evidence, ...(peer.vtep === undefined ? [] : [peer.vtep.evidence])];
  const entries = host.fdb!.entries.filter((e) => e.ifname === dev);
  const forMac = entries.find((e) => e.mac === mac);
  if (forMac === undefined) {
    const toIp = entries.filter((e) => e.dst === publicIp);
    if (toIp.length === 0) {
      const evidence = [fileEvidence(host.files.fdb, `no entry for ${mac} dev ${dev}`), ...peerSide];
      out.push(makeFinding("overlay-fdb-missing", values, { node: self.api.name, evidence }));
      return;
    }
    const found = toIp.map((e) => e.mac).join(", ");
    out.push(
      makeFinding(
        "overlay-fdb-stale",
        { ...values, kind: "old-mac", found },
        { node: self.api.name, evidence: [...toIp.map((e) => e.evidence), ...peerSide] },
      ),
    );
  } else if (forMac.dst !== publicIp) {
    out.push(
      makeFinding(
        "overlay-fdb-stale",
        { ...values, kind: "wrong-dst", found: forMac.dst ?? "nowhere" },
        { node: self.api.name, evidence: [forMac.evidence, ...peerSide] },
      ),
    );
  }
}

/**
 * For every VXLAN node with evidence and every peer with a complete lease (pod CIDR, public IP,
 * VtepMAC), checks the route, the neighbour and the FDB entry flannel should have installed.
 */
export function checkPeerEntries(nodes: readonly OverlayNode[]): Finding[] {
  const out: Finding[] = [];
  for (const self of nodes) {
    if (self.host === undefined || self.vtep === undefined) continue;
    for (const peer of nodes) {
      if (peer === self) continue;
      const a = peer.api;
      if (a.podCidrNet === undefined || a.publicIp === undefined || a.vtepMac === undefined) continue;
      // A peer whose pod CIDR contains this node's own pod CIDR is a misconfiguration reported elsewhere.
      if (self.api.podCidrNet !== undefined && inCidr(self.api.podCidrNet.base, a.podCidrNet)) continue;
      if (self.host.route !== undefined) checkRoute(self, peer, out);
      if (self.host.neigh !== undefined) checkNeighbor(self, peer, out);
      if (self.host.fdb !== undefined) checkFdb(self, peer, out);
    }
  }
  return out;
}
