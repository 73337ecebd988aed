/**
 * Each node's own VXLAN device against its lease in the API: the device exists and is up, its MAC
 * is the VtepMAC peers are told, it is bound to the interface that holds the public-ip peers send
 * to (multi-NIC nodes: k3s-io/k3s#1131, #4847), and no two nodes announce the same public-ip
 * (Vagrant-style NAT NICs with one address on every VM: k3s-io/k3s#1131).
 */

import { makeFinding } from "../findings/make-finding.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import { fileEvidence } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";

/** The interface of a node that holds `ip`, with its evidence. */
function holder(n: OverlayNode, ip: string): { ifname: string; evidence: Evidence } | undefined {
  const i = n.host?.addr?.interfaces.find((x) => x.addresses.some((a) => a.local === ip));
  return i === undefined ? undefined : { ifname: i.ifname, evidence: i.evidence };
}

function checkOwnDevice(n: OverlayNode, out: Finding[]): void {
  const host = n.host!;
  const node = n.api.name;
  const vtep = n.vtep;
  const name = `flannel.${n.api.vni ?? 1}`;
  if (vtep === undefined || !vtep.flags.includes("UP")) {
    const evidence = [
      vtep?.evidence ?? fileEvidence(host.files.link, `no VXLAN device with VNI ${n.api.vni ?? 1}`),
      n.api.evidence,
    ];
    out.push(
      makeFinding(
        "overlay-device-missing",
        { node, dev: vtep?.ifname ?? name, state: vtep === undefined ? "missing" : "down" },
        { node, evidence },
      ),
    );
    return;
  }
  if (n.api.vtepMac !== undefined && vtep.address !== n.api.vtepMac) {
    const values = {
      node,
      dev: vtep.ifname,
      announced: n.api.vtepMac,
      ...(vtep.address === undefined ? {} : { deviceMac: vtep.address }),
    };
    out.push(
      makeFinding("overlay-vtep-mismatch", values, { node, evidence: [vtep.evidence, n.api.evidence] }),
    );
  }
  const ip = n.api.publicIp;
  if (ip === undefined || n.host?.addr === undefined) return;
  const h = holder(n, ip);
  const bound = vtep.vxlan?.link;
  const local = vtep.vxlan?.local;
  if (h === undefined) return; // a public IP behind NAT (--flannel-external-ip): not this check's business
  if ((bound !== undefined && bound !== h.ifname) || (local !== undefined && local !== ip)) {
    const values = {
      node,
      dev: vtep.ifname,
      publicIp: ip,
      holder: h.ifname,
      ...(local === undefined ? {} : { local }),
      ...(bound === undefined ? {} : { bound }),
    };
    out.push(
      makeFinding("overlay-wrong-interface", values, {
        node,
        evidence: [vtep.evidence, h.evidence, n.api.evidence],
      }),
    );
  }
}

function checkDuplicates(nodes: readonly OverlayNode[], out: Finding[]): void {
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
      const evidence = [
        n.api.evidence,
        ...(h === undefined ? [] : [h.evidence]),
        ...(n.vtep === undefined ? [] : [n.vtep.evidence]),
      ];
      out.push(
        makeFinding(
          "overlay-public-ip-duplicate",
          { node: n.api.name, publicIp: ip, nodes: names },
          { node: n.api.name, evidence },
        ),
      );
    }
  }
}

/** The VTEP checks on every VXLAN node that has evidence, and the duplicate public-ip check. */
export function checkVteps(nodes: readonly OverlayNode[]): Finding[] {
  const out: Finding[] = [];
  for (const n of nodes) if (n.host?.link !== undefined) checkOwnDevice(n, out);
  checkDuplicates(nodes, out);
  return out;
}
