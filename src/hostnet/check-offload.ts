/**
 * The VXLAN checksum-offload known bug. With `tx-checksum-ip-generic: on` on the VXLAN device,
 * kernels before 5.7 compute a wrong outer UDP checksum for packets kube-proxy masquerades with
 * `--random-fully`, and receivers drop them: 63-second delays or no traffic (flannel-io/flannel#1279,
 * projectcalico/calico#3145; Calico disables the offload below 5.7, projectcalico/felix#2811).
 * On later kernels it is still reported when the node's public IP is behind NAT
 * (flannel-io/flannel#2152; flannel's troubleshooting guide, flannel-io/flannel#1929).
 */
import { fileEvidence, type HostnetFinding, hostnetFinding } from "./hostnet-finding.ts";
import type { OverlayNode } from "./overlay-view.ts";

/** `major.minor` of a kernel release string such as `5.4.0-150-generic`; undefined when unreadable. */
export function kernelMajorMinor(release: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m === null ? undefined : { major: Number(m[1]), minor: Number(m[2]) };
}

const FIX =
  "ethtool -K flannel.1 tx-checksum-ip-generic off (persist it with a udev rule, see flannel's troubleshooting guide)";

/** One finding per VXLAN node whose offload setting and kernel (or NAT) match the bug. */
export function checkOffload(nodes: readonly OverlayNode[]): HostnetFinding[] {
  const out: HostnetFinding[] = [];
  for (const n of nodes) {
    const feature = n.host?.ethtool?.features.get("tx-checksum-ip-generic");
    if (feature === undefined || !feature.on) continue;
    const name = `node "${n.api.name}"`;
    const kernel = n.api.kernelVersion === undefined ? undefined : kernelMajorMinor(n.api.kernelVersion);
    if (kernel === undefined) {
      out.push(
        hostnetFinding("hostnet-undecided", {
          severity: "info",
          node: n.api.name,
          message: `${name} has VXLAN tx checksum offload on, and its kernel version is unknown: the checksum-offload bug (kernels before 5.7) cannot be ruled out`,
          evidence: [feature.evidence, fileEvidence(n.api.evidence.file, "no status.nodeInfo.kernelVersion")],
        }),
      );
      continue;
    }
    const old = kernel.major < 5 || (kernel.major === 5 && kernel.minor < 7);
    const ip = n.api.publicIp;
    const natted =
      ip !== undefined &&
      n.host?.addr !== undefined &&
      !n.host.addr.interfaces.some((i) => i.addresses.some((a) => a.local === ip));
    if (!old && !natted) continue;
    out.push(
      hostnetFinding("overlay-checksum-offload", {
        severity: "warning",
        node: n.api.name,
        message: old
          ? `${name} runs kernel ${n.api.kernelVersion} (before 5.7) with tx-checksum-ip-generic on for the VXLAN device: masqueraded packets get a wrong outer checksum and are dropped by the receiver`
          : `${name} announces public-ip ${ip}, which is none of its addresses (NAT), with tx-checksum-ip-generic on for the VXLAN device: checksums of NATed VXLAN packets can be wrong`,
        evidence: [feature.evidence, n.api.evidence],
        fix: FIX,
        references: old
          ? ["flannel-io/flannel#1279", "projectcalico/calico#3145"]
          : ["flannel-io/flannel#2152", "flannel-io/flannel#1929"],
      }),
    );
  }
  return out;
}
