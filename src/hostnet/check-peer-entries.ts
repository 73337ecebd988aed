/**
 * What flannel's VXLAN backend installs on every node for every peer lease, checked against the
 * peer's API object (pkg/backend/vxlan/vxlan_network.go, handleSubnetEvents):
 * - a route `PEER-PODCIDR via PEER-OVERLAY-IP dev flannel.1 onlink`;
 * - a PERMANENT neighbour entry `PEER-OVERLAY-IP lladdr PEER-VTEPMAC dev flannel.1`;
 * - an FDB entry `PEER-VTEPMAC dev flannel.1 dst PEER-PUBLIC-IP self permanent`.
 * A stale entry after a peer's VTEP MAC changed is flannel-io/flannel#533, #1036, #1788.
 */
import { formatIpv4, inCidr } from "../net/ipv4.ts";
import { overlayAddress } from "./flannel-node.ts";
import { fileEvidence, type HostnetFinding, hostnetFinding } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";
import { lookupRoute } from "./route-lookup.ts";

const STALE_REFS = ["flannel-io/flannel#533", "flannel-io/flannel#1036", "flannel-io/flannel#1788"];

/** The route check for one (node, peer) pair. */
function checkRoute(self: OverlayNode, peer: OverlayNode, out: HostnetFinding[]): void {
  const host = self.host!;
  const vtep = self.vtep!;
  const cidr = peer.api.podCidrNet!;
  const gw = overlayAddress(peer.api)!;
  const exact = host.route!.routes.find(
    (r) =>
      r.family === "inet" &&
      r.table === "main" &&
      r.cidr?.base === cidr.base &&
      r.cidr.prefix === cidr.prefix,
  );
  const name = `node "${self.api.name}"`;
  if (exact === undefined) {
    const probe = formatIpv4((cidr.base + 1) >>> 0);
    const d = lookupRoute(
      { dst: probe, iif: "cni0" },
      { rules: host.rule?.rules ?? [], routes: host.route!.routes },
    );
    const where =
      d.kind === "unicast" ? `it would leave by ${d.nextHop.dev ?? "?"}` : `the lookup ends in "${d.kind}"`;
    out.push(
      hostnetFinding("overlay-route-missing", {
        severity: "error",
        node: self.api.name,
        message: `${name} has no route for ${peer.api.podCidr} (pods of node "${peer.api.name}"); ${where}`,
        evidence: [
          fileEvidence(host.files.route, `no route to ${peer.api.podCidr} in table main`),
          ...d.evidence,
          peer.api.evidence,
        ],
        fix: `Restart flannel (k3s: the k3s service) on ${self.api.name} so it re-adds its peers' routes; check its log for "failed to add vxlanRoute"`,
      }),
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
  out.push(
    hostnetFinding("overlay-route-wrong", {
      severity: "error",
      node: self.api.name,
      message: `${name} routes ${peer.api.podCidr} (node "${peer.api.name}") with ${problems.join(", ")}`,
      evidence: [exact.evidence, peer.api.evidence],
      fix: `Expected: ${peer.api.podCidr} via ${gw} dev ${vtep.ifname} onlink (as flannel sets it); restart flannel on ${self.api.name}`,
    }),
  );
}

/** The neighbour and FDB checks for one (node, peer) pair. */
function checkL2(self: OverlayNode, peer: OverlayNode, out: HostnetFinding[]): void {
  const host = self.host!;
  const dev = self.vtep!.ifname;
  const mac = peer.api.vtepMac!;
  const gw = overlayAddress(peer.api)!;
  const peerSide = [peer.api.evidence, ...(peer.vtep === undefined ? [] : [peer.vtep.evidence])];
  const name = `node "${self.api.name}"`;
  if (host.neigh !== undefined) {
    const n = host.neigh.neighbors.find((x) => x.dst === gw && x.dev === dev);
    // A FAILED or INCOMPLETE entry is what the kernel leaves after asking ARP in vain: flannel's
    // PERMANENT entry is missing all the same.
    if (n === undefined || n.lladdr === undefined) {
      out.push(
        hostnetFinding("overlay-neighbor-missing", {
          severity: "error",
          node: self.api.name,
          message: `${name} has no neighbour entry for ${gw} (the overlay address of node "${peer.api.name}") on ${dev}${n === undefined ? "" : ` (only a ${n.state.join(",")} one)`}: nothing answers ARP there, so pods of ${peer.api.name} are unreachable (EHOSTUNREACH)`,
          evidence: [
            n?.evidence ?? fileEvidence(host.files.neigh, `no entry for ${gw} dev ${dev}`),
            ...peerSide,
          ],
          fix: `ip neigh replace ${gw} lladdr ${mac} dev ${dev} nud permanent (or restart flannel on ${self.api.name})`,
        }),
      );
    } else if (n.lladdr !== mac) {
      out.push(
        hostnetFinding("overlay-neighbor-stale", {
          severity: "error",
          node: self.api.name,
          message: `${name} resolves ${gw} (node "${peer.api.name}") to ${n.lladdr ?? "nothing"}, but that node's VtepMAC is ${mac}: frames go to a MAC no VTEP has`,
          evidence: [n.evidence, ...peerSide],
          fix: `ip neigh replace ${gw} lladdr ${mac} dev ${dev} nud permanent (or restart flannel on ${self.api.name})`,
          references: STALE_REFS,
        }),
      );
    }
  }
  if (host.fdb !== undefined) {
    const entries = host.fdb.entries.filter((e) => e.ifname === dev);
    const forMac = entries.find((e) => e.mac === mac);
    const toIp = entries.filter((e) => e.dst === peer.api.publicIp && e.mac !== mac);
    if (forMac === undefined) {
      const stale = toIp.length > 0;
      out.push(
        hostnetFinding(stale ? "overlay-fdb-stale" : "overlay-fdb-missing", {
          severity: "error",
          node: self.api.name,
          message: stale
            ? `${name} sends VXLAN for ${peer.api.publicIp} (node "${peer.api.name}") to MAC ${toIp.map((e) => e.mac).join(", ")}, but that node's VtepMAC is now ${mac}: no FDB entry for the new MAC`
            : `${name} has no FDB entry for ${mac} (VtepMAC of node "${peer.api.name}") on ${dev}: frames to that node are dropped`,
          evidence: [
            ...(stale
              ? toIp.map((e) => e.evidence)
              : [fileEvidence(host.files.fdb, `no entry for ${mac} dev ${dev}`)]),
            ...peerSide,
          ],
          fix: `bridge fdb append ${mac} dev ${dev} dst ${peer.api.publicIp} self permanent (or restart flannel on ${self.api.name})`,
          ...(stale ? { references: STALE_REFS } : {}),
        }),
      );
    } else if (forMac.dst !== peer.api.publicIp) {
      out.push(
        hostnetFinding("overlay-fdb-stale", {
          severity: "error",
          node: self.api.name,
          message: `${name} sends VXLAN for ${mac} (node "${peer.api.name}") to ${forMac.dst ?? "nowhere"}, but that node's public-ip is ${peer.api.publicIp}`,
          evidence: [forMac.evidence, ...peerSide],
          fix: `bridge fdb replace ${mac} dev ${dev} dst ${peer.api.publicIp} self permanent (or restart flannel on ${self.api.name})`,
          references: STALE_REFS,
        }),
      );
    }
  }
}

/**
 * For every VXLAN node with evidence and every peer with a complete lease (pod CIDR, public IP,
 * VtepMAC), checks the route, the neighbour and the FDB entry flannel should have installed.
 */
export function checkPeerEntries(nodes: readonly OverlayNode[]): HostnetFinding[] {
  const out: HostnetFinding[] = [];
  for (const self of nodes) {
    if (self.host === undefined || self.vtep === undefined) continue;
    for (const peer of nodes) {
      if (peer === self) continue;
      const a = peer.api;
      if (a.podCidrNet === undefined || a.publicIp === undefined || a.vtepMac === undefined) continue;
      // A peer whose pod CIDR contains this node's own pod CIDR is a misconfiguration reported elsewhere.
      if (self.api.podCidrNet !== undefined && inCidr(self.api.podCidrNet.base, a.podCidrNet)) continue;
      if (self.host.route !== undefined) checkRoute(self, peer, out);
      checkL2(self, peer, out);
    }
  }
  return out;
}
