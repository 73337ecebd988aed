/**
 * The finding codes of the cross-node checks. They are not yet members of `FindingCode`
 * (src/model/finding.ts, owned by the findings catalogue work): a `HostnetFinding` is a `Finding`
 * in every field but `code`, and becomes assignable to `Finding` once the codes are added there.
 */
import type { Evidence, Finding, Severity } from "../model/finding.ts";

/** Every code these checks emit, with its meaning (docs/overlay.md lists them too). */
export const HOSTNET_CODES = {
  "overlay-route-missing": "no route for a peer node's pod CIDR through the overlay device",
  "overlay-route-wrong": "the route for a peer's pod CIDR has the wrong device, gateway or no onlink",
  "overlay-fdb-missing": "no FDB entry for a peer's VtepMAC on the overlay device",
  "overlay-fdb-stale": "the FDB maps a peer's public IP to an old MAC, or its VtepMAC to the wrong IP",
  "overlay-neighbor-missing": "no neighbour entry for a peer's overlay address",
  "overlay-neighbor-stale":
    "the neighbour entry for a peer's overlay address has another MAC than its VtepMAC",
  "overlay-vtep-mismatch": "the node's own overlay device MAC differs from its backend-data VtepMAC",
  "overlay-device-missing": "a flannel VXLAN node without its VXLAN device (or with it down)",
  "overlay-wrong-interface":
    "the overlay device is bound to another interface than the one with the public-ip",
  "overlay-public-ip-duplicate":
    "two nodes announce the same public-ip: VXLAN to it reaches one of them at most",
  "overlay-mtu-mismatch":
    "overlay MTU + 50 exceeds an underlay MTU on the path, or cni0 / subnet.env disagree",
  "overlay-checksum-offload": "VXLAN tx checksum offload on a kernel or NAT setup where it corrupts packets",
  "ip-forward-disabled": "IPv4 forwarding is off on the node or on an interface of the pod path",
  "bridge-nf-disabled":
    "bridged pod traffic bypasses iptables (br_netfilter not loaded or bridge-nf-call-iptables=0)",
  "rp-filter-drop": "strict reverse-path filtering drops packets of the overlay path (asymmetric route)",
  "conntrack-stale-endpoint": "a conntrack entry still sends a flow to a pod IP that no pod has",
  "conntrack-truncated": "the conntrack listing was cut at the collection limit: stale entries may be missed",
  "hostnet-undecided": "a cross-node check could not run: the evidence file it needs is missing",
} as const;

export type HostnetFindingCode = keyof typeof HOSTNET_CODES;

/** A `Finding` with one of the codes above. */
export type HostnetFinding = Omit<Finding, "code"> & { readonly code: HostnetFindingCode };

/** Builds a finding; evidence is deduplicated and kept in order. */
export function hostnetFinding(
  code: HostnetFindingCode,
  fields: {
    readonly severity: Severity;
    readonly message: string;
    readonly evidence: readonly Evidence[];
    readonly node?: string;
    readonly service?: string;
    readonly pod?: string;
    readonly fix?: string;
    readonly references?: readonly string[];
  },
): HostnetFinding {
  const seen = new Set<string>();
  const evidence = fields.evidence.filter((e) => {
    const k = `${e.file}\u0000${e.line ?? ""}\u0000${e.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { code, ...fields, evidence };
}

/** Whole-file evidence for a file that is missing or a fact about a whole file. */
export function fileEvidence(file: string, text: string): Evidence {
  return { file, text };
}
