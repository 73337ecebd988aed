/**
 * Kernel settings of the pod path: IPv4 forwarding (a node routes every pod packet, from cni0 and
 * from flannel.1), br_netfilter (pod-to-pod traffic on one bridge reaches iptables only with
 * `net.bridge.bridge-nf-call-iptables = 1`: kubernetes/kubernetes#38802), and reverse-path
 * filtering, which in strict mode drops the overlay's packets when the route back leaves by
 * another interface (systemd >= 245 sets rp_filter: cilium/cilium#10645).
 */
import { formatIpv4 } from "../net/ipv4.ts";
import { overlayAddress } from "./flannel-node.ts";
import { reversePathCheck } from "./hop-ingress.ts";
import { fileEvidence, type HostnetFinding, hostnetFinding } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";
import { interfaceKey, sysctlNumber } from "./sysctl.ts";

function checkForwarding(n: OverlayNode, out: HostnetFinding[]): void {
  const s = n.host!.sysctl!;
  const keys = [
    "net.ipv4.ip_forward",
    interfaceKey("forwarding", "cni0"),
    ...(n.vtep === undefined ? [] : [interfaceKey("forwarding", n.vtep.ifname)]),
  ];
  const off = keys.map((k) => sysctlNumber(s, k)).filter((v) => v !== undefined && v.value === 0);
  if (off.length === 0) return;
  out.push(
    hostnetFinding("ip-forward-disabled", {
      severity: "error",
      node: n.api.name,
      message: `node "${n.api.name}" does not forward IPv4 (${off.map((v) => v!.evidence.text).join("; ")}): packets of its pods to other nodes, and packets from other nodes to its pods, are dropped without ICMP`,
      evidence: off.map((v) => v!.evidence),
      fix: "sysctl -w net.ipv4.ip_forward=1 (and persist it in /etc/sysctl.d/)",
      references: ["kubernetes/kubernetes#24019"],
    }),
  );
}

function checkBridgeNf(n: OverlayNode, out: HostnetFinding[]): void {
  const host = n.host!;
  const v = sysctlNumber(host.sysctl!, "net.bridge.bridge-nf-call-iptables");
  if (v?.value === 1) return;
  const mod = host.lsmod?.modules.get("br_netfilter");
  out.push(
    hostnetFinding("bridge-nf-disabled", {
      severity: "warning",
      node: n.api.name,
      message:
        v === undefined
          ? `node "${n.api.name}" has no net.bridge.bridge-nf-call-iptables: br_netfilter is not loaded, so traffic between two pods of this node through a Service is never un-NATed (the reply is bridged past conntrack)`
          : `node "${n.api.name}" has net.bridge.bridge-nf-call-iptables = ${v.value}: bridged pod traffic bypasses iptables, so a Service connection between two pods of this node gets its reply from the wrong address`,
      evidence: [
        v?.evidence ?? fileEvidence(host.files.sysctl, "no net.bridge.bridge-nf-call-iptables line"),
        ...(mod === undefined ? [] : [mod.evidence]),
      ],
      fix: "modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 (persist both)",
      references: ["kubernetes/kubernetes#38802"],
    }),
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
  out: HostnetFinding[],
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
    out.push(
      hostnetFinding("rp-filter-drop", {
        severity: "error",
        node: self.api.name,
        message: `node "${self.api.name}" drops ${c.what} arriving on ${c.iif}: ${rp.reason}`,
        evidence: [
          ...rp.evidence,
          peer.api.evidence,
          ...(peer.vtep === undefined ? [] : [peer.vtep.evidence]),
        ],
        fix: `Set net.ipv4.conf.all.rp_filter and net.ipv4.conf.${c.iif.replaceAll(".", "/")}.rp_filter to 2 (loose) or 0, or make the path symmetric (bind flannel to the interface that holds the public-ip)`,
        references: ["cilium/cilium#10645", "kubernetes/kubernetes#38802"],
      }),
    );
  }
}

/**
 * Kernel-setting checks on every VXLAN node with sysctl evidence. `podIps` gives one live pod IP
 * per node (from the API) for the rp_filter check of the inner path.
 */
export function checkKernel(
  nodes: readonly OverlayNode[],
  podIps: ReadonlyMap<string, string>,
): HostnetFinding[] {
  const out: HostnetFinding[] = [];
  for (const n of nodes) {
    if (n.host?.sysctl === undefined) continue;
    checkForwarding(n, out);
    checkBridgeNf(n, out);
    if (n.vtep === undefined) continue;
    for (const peer of nodes) if (peer !== n) checkRpFilter(n, peer, podIps, out);
  }
  return out;
}
