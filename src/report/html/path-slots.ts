/** Maps checks and finding codes to the part of the path diagram they concern. */
import type { CheckName, CheckStep } from "../../model/diagnosis.ts";
import type { FindingCode } from "../../model/finding.ts";

/** Where on the path a check or finding belongs; `dataplane` is resolved to hops or endpoints later. */
export type Slot = "client" | "dns" | "service" | "node" | "policy" | "dataplane" | "none";

/** Which box a finding belongs to. */
export function findingSlot(code: FindingCode): Slot {
  switch (code) {
    case "config-pod-ip":
      return "client";
    case "dns-no-service":
    case "destination-outside":
    case "netpol-dns-denied":
      return "dns";
    case "service-port-missing":
    case "endpoints-none":
    case "destination-unassigned":
      return "service";
    case "rules-duplicated":
    case "rules-outlier":
    case "iptables-known-bug":
    case "iptables-mixed-backends":
    case "mixed-iptables-backends":
    case "iptables-unreadable":
    case "chain-undefined":
    case "chain-leftover":
    case "trace-unknown":
    case "overlay-checksum-offload":
    case "bridge-nf-disabled":
    case "conntrack-truncated":
    case "hostnet-undecided":
      return "node";
    case "endpoint-stale":
    case "endpoint-missing":
    case "service-rules-missing":
    case "service-rejected":
    case "path-blocked":
    case "node-rules-drop":
    case "ipvs-virtual-server-missing":
    case "ipvs-virtual-server-stale":
    case "ipvs-real-server-missing":
    case "ipvs-real-server-stale":
    case "ipvs-real-server-draining":
    case "ipvs-ipset-entry-missing":
    case "ipvs-ipset-entry-stale":
    case "overlay-route-missing":
    case "overlay-route-wrong":
    case "overlay-neighbor-missing":
    case "overlay-neighbor-stale":
    case "overlay-fdb-missing":
    case "overlay-fdb-stale":
    case "overlay-vtep-mismatch":
    case "overlay-device-missing":
    case "overlay-wrong-interface":
    case "overlay-public-ip-duplicate":
    case "overlay-mtu-mismatch":
    case "ip-forward-disabled":
    case "rp-filter-drop":
    case "conntrack-stale-endpoint":
    case "nft-numgen-mismatch":
    case "nft-service-stale":
    case "nft-table-missing":
    case "host-firewall-drop":
      return "dataplane";
    case "netpol-denied":
    case "netpol-node-disagrees":
    case "netpol-not-enforced":
    case "netpol-allowed":
      return "policy";
    case "bundle-invalid":
      return "none";
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

/** Which box a check step belongs to. */
export function stepSlot(check: CheckName): Slot {
  switch (check) {
    case "config":
      return "client";
    case "dns":
      return "dns";
    case "service":
    case "endpoints":
      return "service";
    case "client-node":
    case "node-health":
      return "node";
    case "node-dataplane":
    case "host-firewall":
    case "route":
    case "overlay":
    case "endpoint-node":
      return "dataplane";
    case "network-policy":
      return "policy";
    case "bundle":
      return "none";
    default: {
      const unreachable: never = check;
      return unreachable;
    }
  }
}

/** The CSS state and label of a check step: `ok`, `broken`, `risk` (at risk), `unknown` (undecided), `neutral`. */
export function stepState(s: CheckStep): { readonly cls: string; readonly label: string } {
  switch (s.status) {
    case "ok":
      return { cls: "ok", label: "ok" };
    case "broken":
      return { cls: "broken", label: "broken" };
    case "at-risk":
      return { cls: "risk", label: "at risk" };
    case "undecided":
      return { cls: "unknown", label: "undecided" };
    case "not-applicable":
      return { cls: "neutral", label: "n/a" };
    default: {
      const unreachable: never = s.status;
      return unreachable;
    }
  }
}
