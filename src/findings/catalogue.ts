/**
 * The findings catalogue: one entry per finding code (severity, title, explanation, message and fix
 * templates, references). docs/findings.md is tested against it. A new code in model/finding.ts does
 * not compile until it has an entry here.
 */
import type { FindingCode } from "../model/finding.ts";
import {
  DESTINATION_OUTSIDE,
  DESTINATION_UNASSIGNED,
  type DestinationOutsideValues,
  type DestinationUnassignedValues,
  DNS_NO_SERVICE,
  type DnsNoServiceValues,
  ENDPOINTS_NONE,
  type EndpointsNoneValues,
  SERVICE_PORT_MISSING,
  type ServicePortMissingValues,
} from "./api-entries.ts";
import {
  BUNDLE_INVALID,
  type BundleInvalidValues,
  CONFIG_POD_IP,
  type ConfigPodIpValues,
} from "./config-entries.ts";
import {
  CHAIN_LEFTOVER,
  CHAIN_UNDEFINED,
  type ChainLeftoverValues,
  type ChainUndefinedValues,
  ENDPOINT_MISSING,
  ENDPOINT_STALE,
  type EndpointMissingValues,
  type EndpointStaleValues,
  PATH_BLOCKED,
  type PathBlockedValues,
  SERVICE_REJECTED,
  SERVICE_RULES_MISSING,
  type ServiceRejectedValues,
  type ServiceRulesMissingValues,
  TRACE_UNKNOWN,
  type TraceUnknownValues,
} from "./dataplane-entries.ts";
import type { FindingEntry } from "./finding-entry.ts";
import {
  IPTABLES_KNOWN_BUG,
  IPTABLES_MIXED_BACKENDS,
  IPTABLES_UNREADABLE,
  type IptablesUnreadableValues,
  type KnownBugValues,
  MIXED_IPTABLES_BACKENDS,
  RULES_DUPLICATED,
  RULES_OUTLIER,
  type RulesDuplicatedValues,
  type RulesOutlierValues,
} from "./health-entries.ts";
import { NODE_RULES_DROP, type NodeRulesDropValues } from "./hop-entries.ts";
import {
  BRIDGE_NF_DISABLED,
  type BridgeNfDisabledValues,
  CONNTRACK_STALE_ENDPOINT,
  CONNTRACK_TRUNCATED,
  type ConntrackStaleEndpointValues,
  type ConntrackTruncatedValues,
  HOSTNET_UNDECIDED,
  type HostnetUndecidedValues,
  IP_FORWARD_DISABLED,
  type IpForwardDisabledValues,
  OVERLAY_CHECKSUM_OFFLOAD,
  type OverlayChecksumOffloadValues,
  RP_FILTER_DROP,
  type RpFilterDropValues,
} from "./host-entries.ts";
import {
  IPVS_IPSET_ENTRY_MISSING,
  IPVS_IPSET_ENTRY_STALE,
  IPVS_REAL_SERVER_DRAINING,
  IPVS_REAL_SERVER_MISSING,
  IPVS_REAL_SERVER_STALE,
  IPVS_VIRTUAL_SERVER_MISSING,
  IPVS_VIRTUAL_SERVER_STALE,
  type IpvsIpsetEntryMissingValues,
  type IpvsIpsetEntryStaleValues,
  type IpvsRealServerDrainingValues,
  type IpvsRealServerMissingValues,
  type IpvsRealServerStaleValues,
  type IpvsVirtualServerMissingValues,
  type IpvsVirtualServerStaleValues,
} from "./ipvs-entries.ts";
import {
  NETPOL_ALLOWED,
  NETPOL_DENIED,
  NETPOL_DNS_DENIED,
  NETPOL_NODE_DISAGREES,
  NETPOL_NOT_ENFORCED,
  type NetpolAllowedValues,
  type NetpolDeniedValues,
  type NetpolDnsDeniedValues,
  type NetpolNodeDisagreesValues,
  type NetpolNotEnforcedValues,
} from "./netpol-entries.ts";
import {
  HOST_FIREWALL_DROP,
  type HostFirewallDropValues,
  NFT_NUMGEN_MISMATCH,
  NFT_SERVICE_STALE,
  NFT_TABLE_MISSING,
  type NftNumgenMismatchValues,
  type NftServiceStaleValues,
  type NftTableMissingValues,
} from "./nft-entries.ts";
import {
  OVERLAY_DEVICE_MISSING,
  OVERLAY_FDB_MISSING,
  OVERLAY_FDB_STALE,
  OVERLAY_MTU_MISMATCH,
  OVERLAY_NEIGHBOR_MISSING,
  OVERLAY_NEIGHBOR_STALE,
  OVERLAY_PUBLIC_IP_DUPLICATE,
  OVERLAY_ROUTE_MISSING,
  OVERLAY_ROUTE_WRONG,
  OVERLAY_VTEP_MISMATCH,
  OVERLAY_WRONG_INTERFACE,
  type OverlayDeviceMissingValues,
  type OverlayFdbValues,
  type OverlayMtuMismatchValues,
  type OverlayNeighborValues,
  type OverlayPublicIpDuplicateValues,
  type OverlayRouteMissingValues,
  type OverlayRouteWrongValues,
  type OverlayVtepMismatchValues,
  type OverlayWrongInterfaceValues,
} from "./overlay-entries.ts";

/** The values each code's templates take. */
export interface FindingValues {
  "dns-no-service": DnsNoServiceValues;
  "destination-outside": DestinationOutsideValues;
  "destination-unassigned": DestinationUnassignedValues;
  "service-port-missing": ServicePortMissingValues;
  "endpoints-none": EndpointsNoneValues;
  "endpoint-stale": EndpointStaleValues;
  "endpoint-missing": EndpointMissingValues;
  "service-rules-missing": ServiceRulesMissingValues;
  "service-rejected": ServiceRejectedValues;
  "rules-duplicated": RulesDuplicatedValues;
  "rules-outlier": RulesOutlierValues;
  "iptables-known-bug": KnownBugValues;
  "iptables-mixed-backends": KnownBugValues;
  "mixed-iptables-backends": KnownBugValues;
  "iptables-unreadable": IptablesUnreadableValues;
  "config-pod-ip": ConfigPodIpValues;
  "chain-undefined": ChainUndefinedValues;
  "chain-leftover": ChainLeftoverValues;
  "path-blocked": PathBlockedValues;
  "node-rules-drop": NodeRulesDropValues;
  "bundle-invalid": BundleInvalidValues;
  "trace-unknown": TraceUnknownValues;
  "netpol-denied": NetpolDeniedValues;
  "netpol-dns-denied": NetpolDnsDeniedValues;
  "netpol-node-disagrees": NetpolNodeDisagreesValues;
  "netpol-not-enforced": NetpolNotEnforcedValues;
  "netpol-allowed": NetpolAllowedValues;
  "ipvs-virtual-server-missing": IpvsVirtualServerMissingValues;
  "ipvs-virtual-server-stale": IpvsVirtualServerStaleValues;
  "ipvs-real-server-missing": IpvsRealServerMissingValues;
  "ipvs-real-server-stale": IpvsRealServerStaleValues;
  "ipvs-real-server-draining": IpvsRealServerDrainingValues;
  "ipvs-ipset-entry-missing": IpvsIpsetEntryMissingValues;
  "ipvs-ipset-entry-stale": IpvsIpsetEntryStaleValues;
  "overlay-route-missing": OverlayRouteMissingValues;
  "overlay-route-wrong": OverlayRouteWrongValues;
  "overlay-neighbor-missing": OverlayNeighborValues;
  "overlay-neighbor-stale": OverlayNeighborValues;
  "overlay-fdb-missing": OverlayFdbValues;
  "overlay-fdb-stale": OverlayFdbValues;
  "overlay-vtep-mismatch": OverlayVtepMismatchValues;
  "overlay-device-missing": OverlayDeviceMissingValues;
  "overlay-wrong-interface": OverlayWrongInterfaceValues;
  "overlay-public-ip-duplicate": OverlayPublicIpDuplicateValues;
  "overlay-mtu-mismatch": OverlayMtuMismatchValues;
  "overlay-checksum-offload": OverlayChecksumOffloadValues;
  "ip-forward-disabled": IpForwardDisabledValues;
  "bridge-nf-disabled": BridgeNfDisabledValues;
  "rp-filter-drop": RpFilterDropValues;
  "conntrack-stale-endpoint": ConntrackStaleEndpointValues;
  "conntrack-truncated": ConntrackTruncatedValues;
  "hostnet-undecided": HostnetUndecidedValues;
  "nft-numgen-mismatch": NftNumgenMismatchValues;
  "nft-service-stale": NftServiceStaleValues;
  "nft-table-missing": NftTableMissingValues;
  "host-firewall-drop": HostFirewallDropValues;
}

/** Codes the known-bug catalogue can report (their values are a matched known-bug entry). */
export type KnownBugCode =
  | "iptables-known-bug"
  | "iptables-mixed-backends"
  | "mixed-iptables-backends"
  | "iptables-unreadable";

/** Every entry, keyed by code, in the order docs/findings.md lists them. */
export const FINDINGS: { readonly [C in FindingCode]: FindingEntry<FindingValues[C]> } = {
  "dns-no-service": DNS_NO_SERVICE,
  "destination-outside": DESTINATION_OUTSIDE,
  "destination-unassigned": DESTINATION_UNASSIGNED,
  "service-port-missing": SERVICE_PORT_MISSING,
  "endpoints-none": ENDPOINTS_NONE,
  "endpoint-stale": ENDPOINT_STALE,
  "endpoint-missing": ENDPOINT_MISSING,
  "service-rules-missing": SERVICE_RULES_MISSING,
  "service-rejected": SERVICE_REJECTED,
  "chain-undefined": CHAIN_UNDEFINED,
  "chain-leftover": CHAIN_LEFTOVER,
  "trace-unknown": TRACE_UNKNOWN,
  "path-blocked": PATH_BLOCKED,
  "node-rules-drop": NODE_RULES_DROP,
  "netpol-denied": NETPOL_DENIED,
  "netpol-node-disagrees": NETPOL_NODE_DISAGREES,
  "netpol-not-enforced": NETPOL_NOT_ENFORCED,
  "netpol-allowed": NETPOL_ALLOWED,
  "netpol-dns-denied": NETPOL_DNS_DENIED,
  "ipvs-virtual-server-missing": IPVS_VIRTUAL_SERVER_MISSING,
  "ipvs-virtual-server-stale": IPVS_VIRTUAL_SERVER_STALE,
  "ipvs-real-server-missing": IPVS_REAL_SERVER_MISSING,
  "ipvs-real-server-stale": IPVS_REAL_SERVER_STALE,
  "ipvs-real-server-draining": IPVS_REAL_SERVER_DRAINING,
  "ipvs-ipset-entry-missing": IPVS_IPSET_ENTRY_MISSING,
  "ipvs-ipset-entry-stale": IPVS_IPSET_ENTRY_STALE,
  "overlay-route-missing": OVERLAY_ROUTE_MISSING,
  "overlay-route-wrong": OVERLAY_ROUTE_WRONG,
  "overlay-neighbor-missing": OVERLAY_NEIGHBOR_MISSING,
  "overlay-neighbor-stale": OVERLAY_NEIGHBOR_STALE,
  "overlay-fdb-missing": OVERLAY_FDB_MISSING,
  "overlay-fdb-stale": OVERLAY_FDB_STALE,
  "overlay-vtep-mismatch": OVERLAY_VTEP_MISMATCH,
  "overlay-device-missing": OVERLAY_DEVICE_MISSING,
  "overlay-wrong-interface": OVERLAY_WRONG_INTERFACE,
  "overlay-public-ip-duplicate": OVERLAY_PUBLIC_IP_DUPLICATE,
  "overlay-mtu-mismatch": OVERLAY_MTU_MISMATCH,
  "overlay-checksum-offload": OVERLAY_CHECKSUM_OFFLOAD,
  "ip-forward-disabled": IP_FORWARD_DISABLED,
  "bridge-nf-disabled": BRIDGE_NF_DISABLED,
  "rp-filter-drop": RP_FILTER_DROP,
  "conntrack-stale-endpoint": CONNTRACK_STALE_ENDPOINT,
  "conntrack-truncated": CONNTRACK_TRUNCATED,
  "hostnet-undecided": HOSTNET_UNDECIDED,
  "nft-numgen-mismatch": NFT_NUMGEN_MISMATCH,
  "nft-service-stale": NFT_SERVICE_STALE,
  "nft-table-missing": NFT_TABLE_MISSING,
  "host-firewall-drop": HOST_FIREWALL_DROP,
  "rules-duplicated": RULES_DUPLICATED,
  "rules-outlier": RULES_OUTLIER,
  "iptables-known-bug": IPTABLES_KNOWN_BUG,
  "iptables-mixed-backends": IPTABLES_MIXED_BACKENDS,
  "mixed-iptables-backends": MIXED_IPTABLES_BACKENDS,
  "iptables-unreadable": IPTABLES_UNREADABLE,
  "config-pod-ip": CONFIG_POD_IP,
  "bundle-invalid": BUNDLE_INVALID,
};
