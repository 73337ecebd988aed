/**
 * Findings are the anomalies netdoctor reports. They are data: returned, never thrown.
 * Codes are a public contract, documented in docs/findings.md; every code has one entry in the
 * findings catalogue (src/findings/), which is the only place that builds a Finding's text.
 */

export type FindingCode =
  | "dns-no-service"
  | "destination-outside"
  | "destination-unassigned"
  | "service-port-missing"
  | "endpoints-none"
  | "endpoint-stale"
  | "endpoint-missing"
  | "service-rules-missing"
  | "service-rejected"
  | "rules-duplicated"
  | "rules-outlier"
  | "iptables-known-bug"
  | "iptables-mixed-backends"
  | "mixed-iptables-backends"
  | "iptables-unreadable"
  | "config-pod-ip"
  | "chain-undefined"
  | "chain-leftover"
  | "path-blocked"
  | "node-rules-drop"
  | "bundle-invalid"
  | "trace-unknown"
  | "netpol-denied"
  | "netpol-dns-denied"
  | "netpol-node-disagrees"
  | "netpol-not-enforced"
  | "netpol-allowed"
  | "ipvs-virtual-server-missing"
  | "ipvs-virtual-server-stale"
  | "ipvs-real-server-missing"
  | "ipvs-real-server-stale"
  | "ipvs-real-server-draining"
  | "ipvs-ipset-entry-missing"
  | "ipvs-ipset-entry-stale"
  | "overlay-route-missing"
  | "overlay-route-wrong"
  | "overlay-neighbor-missing"
  | "overlay-neighbor-stale"
  | "overlay-fdb-missing"
  | "overlay-fdb-stale"
  | "overlay-vtep-mismatch"
  | "overlay-device-missing"
  | "overlay-wrong-interface"
  | "overlay-public-ip-duplicate"
  | "overlay-mtu-mismatch"
  | "overlay-checksum-offload"
  | "ip-forward-disabled"
  | "bridge-nf-disabled"
  | "rp-filter-drop"
  | "conntrack-stale-endpoint"
  | "conntrack-truncated"
  | "hostnet-undecided"
  | "nft-numgen-mismatch"
  | "nft-service-stale"
  | "nft-table-missing"
  | "host-firewall-drop";

export type Severity = "error" | "warning" | "info";

/** A line of a file that proves a finding. */
export interface Evidence {
  /** Path relative to the bundle (or the dump file name given on the command line). */
  readonly file: string;
  /** 1-indexed line; absent for whole-file evidence such as a JSON object. */
  readonly line?: number;
  readonly text: string;
}

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly message: string;
  readonly evidence: readonly Evidence[];
  readonly node?: string;
  /** `namespace/name` of the Service concerned. */
  readonly service?: string;
  /** `namespace/name` of the Pod concerned. */
  readonly pod?: string;
  readonly fix?: string;
  readonly references?: readonly string[];
}
