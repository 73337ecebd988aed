/**
 * The VXLAN checksum-offload known bug. With `tx-checksum-ip-generic: on` on the VXLAN device,
 * kernels before 5.7 compute a wrong outer UDP checksum for packets kube-proxy masquerades with
 * `--random-fully`, and receivers drop them: 63-second delays or no traffic (flannel-io/flannel#1279,
 * projectcalico/calico#3145; Calico disables the offload below 5.7, projectcalico/felix#2811).
 * On later kernels it is still reported when the node's public IP is behind NAT
 * (flannel-io/flannel#2152; flannel's troubleshooting guide, flannel-io/flannel#1929).
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import { fileEvidence } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";

/** `major.minor` of a kernel release string such as `5.4.0-150-generic`; undefined when unreadable. */
export function kernelMajorMinor(release: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m === null ? undefined : { major: Number(m[1]), minor: Number(m[2]) };
}

/** One finding per VXLAN node whose offload setting and kernel (or NAT) match the bug. */
export function checkOffload(nodes: readonly OverlayNode[]): Finding[] {
  const out: Finding[] = [];
  for (const n of nodes) {
    const feature = n.host?.ethtool?.features.get("tx-checksum-ip-generic");
    if (feature === undefined || !feature.on) continue;
    const node = n.api.name;
    const kernel = n.api.kernelVersion === undefined ? undefined : kernelMajorMinor(n.api.kernelVersion);
    if (kernel === undefined) {
      const evidence = [
        feature.evidence,
        fileEvidence(n.api.evidence.file, "no status.nodeInfo.kernelVersion"),
      ];
      out.push(makeFinding("hostnet-undecided", { kind: "kernel-unknown", node }, { node, evidence }));
      continue;
    }
    const old = kernel.major < 5 || (kernel.major === 5 && kernel.minor < 7);
    const ip = n.api.publicIp;
    const natted =
      ip !== undefined &&
      n.host?.addr !== undefined &&
      !n.host.addr.interfaces.some((i) => i.addresses.some((a) => a.local === ip));
    if (!old && !natted) continue;
    const values = old
      ? { node, kind: "old-kernel" as const, kernel: n.api.kernelVersion! }
      : { node, kind: "nat" as const, publicIp: ip! };
    out.push(
      makeFinding("overlay-checksum-offload", values, { node, evidence: [feature.evidence, n.api.evidence] }),
    );
  }
  return out;
}
