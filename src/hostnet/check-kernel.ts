/**
 * Kernel settings of the pod path: IPv4 forwarding (a node routes every pod packet, from cni0 and
 * from flannel.1), br_netfilter (pod-to-pod traffic on one bridge reaches iptables only with
 * `net.bridge.bridge-nf-call-iptables = 1`: kubernetes/kubernetes#38802), and reverse-path
 * filtering, which in strict mode drops the overlay's packets when the route back leaves by
 * another interface (systemd >= 245 sets rp_filter: cilium/cilium#10645).
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import { formatIpv4 } from "../net/ipv4.ts";
import { overlayAddress } from "./flannel-node.ts";
import { reversePathCheck } from "./hop-ingress.ts";
import { fileEvidence } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";
import { interfaceKey, sysctlNumber } from "./sysctl.ts";

function checkForwarding(n: OverlayNode, out: Finding[]): void {
  const s = n.host!.sysctl!;
  const keys = [
    "net.ipv4.ip_forward",
    interfaceKey("forwarding", "cni0"),
    ...(n.vtep === undefined ? [] : [interfaceKey("forwarding", n.vtep.ifname)]),
  ];
  const off = keys.flatMap((k) => {
    const v = sysctlNumber(s, k);
    return v !== undefined && v.value === 0 ? [v.evidence] : [];
  });
  if (off.length === 0) return;
  out.push(
    makeFinding(
      "ip-forward-disabled",
      { node: n.api.name, lines: off.map((e) => e.text) },
      { node: n.api.name, evidence: off },
    ),
  );
}

function checkBridgeNf(n: OverlayNode, out: Finding[]): void {
  const host = n.host!;
  const v = sysctlNumber(host.sysctl!, "net.bridge.bridge-nf-call-iptables");
  if (v?.value === 1) return;
  const mod = host.lsmod?.modules.get("br_netfilter");
  const evidence = [
    v?.evidence ?? fileEvidence(host.files.sysctl, "no net.bridge.bridge-nf-call-iptables line"),
    ...(mod === undefined ? [] : [mod.evidence]),
  ];
  out.push(
    makeFinding(
      "bridge-nf-disabled",
      { node: n.api.name, ...(v === undefined ? {} : { value: v.value }) },
      { node: n.api.name, evidence },
    ),
  );
}

/** A pod address of a node for the checks: the API's, else the second address of its pod CIDR. */
function podAddress(n: OverlayNode, pods: ReadonlyMap<string, string>): string | undefined {
  const known = pods.get(n.api.name);
  if (known !== undefined) return known;
  const c = n.api.podCidrNet;
  return c === undefined ? undefined : formatIpv4((c.base + 2) >>> 0);
}

/** Strict rp_filter on the receiving side of the overlay (outer packet on the underlay, inner on flannel.1). */
function checkRpFilter(
  self: OverlayNode,
  peer: OverlayNode,
  pods: ReadonlyMap<string, string>,
  out: Finding[],
): void {
  const host = self.host!;
  const vtep = self.vtep!;
  const src = peer.vtep?.vxlan?.local ?? peer.api.publicIp;
  const dst = self.api.publicIp;
  const recv = host.addr?.interfaces.find((i) => i.addresses.some((a) => a.local === dst));
  const checks: Array<{ iif: string; src: string; dst: string; what: string }> = [];
  if (src !== undefined && dst !== undefined && recv !== undefined) {
    checks.push({ iif: recv.ifname, src, dst, what: `VXLAN packets from node "${peer.api.name}" (${src})` });
  }
  const peerPod = podAddress(peer, pods);
  const ownPod = podAddress(self, pods);
  if (peerPod !== undefined && ownPod !== undefined && overlayAddress(self.api) !== undefined) {
    checks.push({
      iif: vtep.ifname,
      src: peerPod,
      dst: ownPod,
      what: `pod packets from node "${peer.api.name}" (${peerPod})`,
    });
  }
  for (const c of checks) {
    const rp = reversePathCheck(host, c.iif, c.src, c.dst);
    if (rp === undefined || rp.pass) continue;
    const evidence = [
      ...rp.evidence,
      peer.api.evidence,
      ...(peer.vtep === undefined ? [] : [peer.vtep.evidence]),
    ];
    out.push(
      makeFinding(
        "rp-filter-drop",
        { node: self.api.name, what: c.what, iif: c.iif, reason: rp.reason },
        { node: self.api.name, evidence },
      ),
    );
  }
}

/**
 * Kernel-setting checks on every VXLAN node with sysctl evidence. `podIps` gives one live pod IP
 * per node (from the API) for the rp_filter check of the inner path.
 */
export function checkKernel(nodes: readonly OverlayNode[], podIps: ReadonlyMap<string, string>): Finding[] {
  const out: Finding[] = [];
  for (const n of nodes) {
    if (n.host?.sysctl === undefined) continue;
    checkForwarding(n, out);
    checkBridgeNf(n, out);
    if (n.vtep === undefined) continue;
    for (const peer of nodes) if (peer !== n) checkRpFilter(n, peer, podIps, out);
  }
  return out;
}
