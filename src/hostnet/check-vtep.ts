/**
 * Each node's own VXLAN device against its lease in the API: the device exists and is up, its MAC
 * is the VtepMAC peers are told, it is bound to the interface that holds the public-ip peers send
 * to (multi-NIC nodes: k3s-io/k3s#1131, #4847), and no two nodes announce the same public-ip
 * (Vagrant-style NAT NICs with one address on every VM: k3s-io/k3s#1131).
 */
import type { Evidence } from "../model/finding.ts";
import { fileEvidence, type HostnetFinding, hostnetFinding } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";

/** The interface of a node that holds `ip`, with its evidence. */
function holder(n: OverlayNode, ip: string): { ifname: string; evidence: Evidence } | undefined {
  const i = n.host?.addr?.interfaces.find((x) => x.addresses.some((a) => a.local === ip));
  return i === undefined ? undefined : { ifname: i.ifname, evidence: i.evidence };
}

function checkOwnDevice(n: OverlayNode, out: HostnetFinding[]): void {
  const host = n.host!;
  const name = `node "${n.api.name}"`;
  const vtep = n.vtep;
  if (vtep === undefined || !vtep.flags.includes("UP")) {
    out.push(
      hostnetFinding("overlay-device-missing", {
        severity: "error",
        node: n.api.name,
        message:
          vtep === undefined
            ? `${name} announces a VXLAN lease (backend-type vxlan) but has no VXLAN device flannel.${n.api.vni ?? 1}`
            : `${vtep.ifname} on ${name} is down`,
        evidence: [
          vtep?.evidence ?? fileEvidence(host.files.link, `no VXLAN device with VNI ${n.api.vni ?? 1}`),
          n.api.evidence,
        ],
        fix: `Restart flannel (k3s: the k3s service) on ${n.api.name} and check its log`,
      }),
    );
    return;
  }
  if (n.api.vtepMac !== undefined && vtep.address !== n.api.vtepMac) {
    out.push(
      hostnetFinding("overlay-vtep-mismatch", {
        severity: "error",
        node: n.api.name,
        message: `${vtep.ifname} on ${name} has MAC ${vtep.address ?? "(none)"}, but its backend-data announces ${n.api.vtepMac}: every peer sends this node's frames to the announced MAC, which no device has`,
        evidence: [vtep.evidence, n.api.evidence],
        fix: `Restart flannel on ${n.api.name} so it announces the device's MAC again`,
        references: ["flannel-io/flannel#1788"],
      }),
    );
  }
  const ip = n.api.publicIp;
  if (ip === undefined || n.host?.addr === undefined) return;
  const h = holder(n, ip);
  const bound = vtep.vxlan?.link;
  const local = vtep.vxlan?.local;
  if (h === undefined) return; // a public IP behind NAT (--flannel-external-ip): not this check's business
  if ((bound !== undefined && bound !== h.ifname) || (local !== undefined && local !== ip)) {
    out.push(
      hostnetFinding("overlay-wrong-interface", {
        severity: "warning",
        node: n.api.name,
        message: `${vtep.ifname} on ${name} sends from ${local ?? "?"} on ${bound ?? "?"}, but peers send to its public-ip ${ip}, which is on ${h.ifname}: the overlay path is asymmetric (strict rp_filter drops it, firewalls may too)`,
        evidence: [vtep.evidence, h.evidence, n.api.evidence],
        fix: `Bind flannel to ${h.ifname} (k3s: --flannel-iface ${h.ifname}), or make the public-ip the address of ${bound ?? "the bound interface"}`,
        references: ["k3s-io/k3s#1131", "k3s-io/k3s#4847"],
      }),
    );
  }
}

function checkDuplicates(nodes: readonly OverlayNode[], out: HostnetFinding[]): void {
  const byIp = new Map<string, OverlayNode[]>();
  for (const n of nodes) {
    if (n.api.publicIp === undefined) continue;
    byIp.set(n.api.publicIp, [...(byIp.get(n.api.publicIp) ?? []), n]);
  }
  for (const [ip, group] of byIp) {
    if (group.length < 2) continue;
    const names = group.map((g) => g.api.name);
    for (const n of group) {
      const h = holder(n, ip);
      out.push(
        hostnetFinding("overlay-public-ip-duplicate", {
          severity: "error",
          node: n.api.name,
          message: `nodes ${names.map((x) => `"${x}"`).join(", ")} all announce public-ip ${ip}: peers send their VXLAN traffic to an address every one of them has (typically a NAT interface that holds the default route), so it never reaches the right node`,
          evidence: [
            n.api.evidence,
            ...(h === undefined ? [] : [h.evidence]),
            ...(n.vtep === undefined ? [] : [n.vtep.evidence]),
          ],
          fix: "Bind flannel to the interface of the network the nodes share (k3s: --flannel-iface IFACE, or --node-ip / --node-external-ip)",
          references: ["k3s-io/k3s#1131", "k3s-io/k3s#1824", "k3s-io/k3s#10941"],
        }),
      );
    }
  }
}

/** The VTEP checks on every VXLAN node that has evidence, and the duplicate public-ip check. */
export function checkVteps(nodes: readonly OverlayNode[]): HostnetFinding[] {
  const out: HostnetFinding[] = [];
  for (const n of nodes) if (n.host?.link !== undefined) checkOwnDevice(n, out);
  checkDuplicates(nodes, out);
  return out;
}
