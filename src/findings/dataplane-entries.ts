/** Catalogue entries of a node's data plane: kube-proxy's rules against the API, and the packet trace. */
import { type FindingEntry, REF } from "./finding-entry.ts";
import { type NodeKind, restartKubeProxy } from "./kube-proxy-restart.ts";

interface OnNode {
  readonly node: string;
  /** What runs kube-proxy on the node (from its labels/annotations), for the restart advice. */
  readonly nodeKind?: NodeKind;
}

/** kube-proxy's own sync evidence, when the bundle has it (kube-proxy/kube-proxy-health.ts). */
interface WithHealth {
  /** One sentence, e.g. `kube-proxy on "node2" last synced 7 minutes ago (at collection), 0 restore failures`. */
  readonly health?: string;
}

/** Which kube-proxy backend wrote the rules (default iptables): the wording of fixes differs. */
interface WithBackend {
  readonly backend?: "nftables";
}

const NFT_LOG = 'check its log for "nftables sync failed"; compare with `nft list table ip kube-proxy`';

function healthClause(v: WithHealth): string {
  return v.health === undefined || v.health === "" ? "" : `. ${v.health}`;
}

export interface EndpointStaleValues extends OnNode, WithHealth, WithBackend {
  readonly service: string;
  /** `ns/svc:port (clusterIP:port/proto)`. */
  readonly where: string;
  /** The path, when not the ClusterIP's: `from outside (externalTrafficPolicy Local)`. */
  readonly via?: string;
  /** The DNAT target, `ip:port`. */
  readonly target: string;
  readonly ip: string;
  /** The ready endpoints, `ip:port, ...` or `none`. */
  readonly ready: string;
  /** Who has the IP now, e.g. `pod eopx/x-1 on master2`. */
  readonly owner?: string;
}

export interface EndpointMissingValues extends OnNode, WithHealth, WithBackend {
  readonly where: string;
  readonly missing: readonly string[];
  /** The path, when not the ClusterIP's: `from outside (externalTrafficPolicy Local)`. */
  readonly via?: string;
  /** What the missing endpoints are, when not plain ready ones: `endpoints hinted for zone a`. */
  readonly kind?: string;
}

export type ServiceRulesMissingValues =
  | (OnNode &
      WithHealth &
      WithBackend & {
        readonly entries: "cluster-ip";
        readonly where: string;
        readonly ready: string;
        /** The chain the address's rule jumps to instead, when it is not this port's own. */
        readonly foreignChain?: string;
      })
  | (OnNode & {
      readonly entries: "external";
      readonly svcPortName: string;
      readonly absent: readonly string[];
    });

export interface ServiceRejectedValues extends OnNode, WithHealth, WithBackend {
  readonly where: string;
  readonly ready: string;
  /** The filter rule's target. */
  readonly target: string;
  /** True when the node also has the Service's rules (a leftover next to a later sync). */
  readonly alongsideRules: boolean;
}

export interface ChainUndefinedValues extends OnNode {
  readonly chain: string;
  readonly table: string;
  /** The Service port whose entry jumps there, when it is kube-proxy's. */
  readonly where?: string;
}

export interface ChainLeftoverValues extends OnNode {
  readonly count: number;
  /** How many of them a rule still jumps to. */
  readonly inUse: number;
}

export interface TraceUnknownValues {
  readonly node: string;
  /** Percentage of the packet's paths the tracer cannot decide. */
  readonly share: number;
  readonly reason: string;
}

export interface PathBlockedValues {
  readonly node: string;
  readonly outcome: "dropped" | "rejected";
  readonly share: number;
  /** The rule or policy that decides, e.g. `filter/FORWARD line 34`. */
  readonly by: string;
  /** What the client sees: `ECONNREFUSED ("Connection refused")`, or a timeout. */
  readonly clientSees: string;
}

const RESTART_FIRST = (v: OnNode) => {
  const r = restartKubeProxy(v.node, v.nodeKind);
  return r.charAt(0).toUpperCase() + r.slice(1);
};

export const ENDPOINT_STALE: FindingEntry<EndpointStaleValues> = {
  code: "endpoint-stale",
  severity: "error",
  title: "The node sends the Service to an address that is not a ready endpoint",
  explanation:
    "The node DNATs the Service to an address that is not a ready endpoint in the API: kube-proxy's syncs stopped landing on that node (its iptables-restore fails, or it does not run). A client sees EHOSTUNREACH when no pod has the IP (nothing answers ARP), or talks to the wrong pod when the IP was reused.",
  message: (v) =>
    `Node "${v.node}" sends ${v.where}${v.via === undefined ? "" : ` ${v.via}`} to ${v.target}, which is not a ready endpoint of ${v.service} (ready: ${v.ready}); ` +
    (v.owner === undefined ? `no pod has ${v.ip} now` : `${v.ip} now belongs to ${v.owner}`) +
    healthClause(v),
  fix: (v) =>
    v.backend === "nftables"
      ? `kube-proxy on "${v.node}" is not applying updates: ${restartKubeProxy(v.node, v.nodeKind)} so it rewrites its table, and ${NFT_LOG}`
      : `kube-proxy on "${v.node}" is not applying updates: fix what breaks iptables on the node (see its node-health findings), then ${restartKubeProxy(v.node, v.nodeKind)} so it rewrites the rules; confirm with \`iptables-save | grep ${v.target}\``,
  references: [REF.proxier, REF.k3s3117],
};

export const ENDPOINT_MISSING: FindingEntry<EndpointMissingValues> = {
  code: "endpoint-missing",
  severity: "error",
  title: "A ready endpoint has no rule on the node",
  explanation:
    "A ready endpoint of the Service has no rule on the node: the node sends no traffic to it (load is skewed, or all traffic goes to stale endpoints).",
  message: (v) =>
    `Node "${v.node}" has no rule sending ${v.where}${v.via === undefined ? "" : ` ${v.via}`} to ${v.kind ?? `ready endpoint${v.missing.length > 1 ? "s" : ""}`} ${v.missing.join(", ")}${healthClause(v)}`,
  fix: (v) =>
    v.backend === "nftables"
      ? `${RESTART_FIRST(v)} and ${NFT_LOG}`
      : `Fix what breaks iptables on the node (see its node-health findings), then ${restartKubeProxy(v.node, v.nodeKind)}; its log shows why syncs fail`,
  references: [REF.proxier],
};

export const SERVICE_RULES_MISSING: FindingEntry<ServiceRulesMissingValues> = {
  code: "service-rules-missing",
  severity: {
    rule: "error for the ClusterIP, warning for external entries",
    of: (v) => (v.entries === "cluster-ip" ? "error" : "warning"),
  },
  title: "The node has no rules for the Service",
  explanation:
    "The API lists ready endpoints but the node has no KUBE-SERVICES rule for the ClusterIP:port (error), or lacks the NodePort / externalIP / LoadBalancer-IP entries (warning).",
  message: (v) =>
    v.entries === "external"
      ? `Node "${v.node}" lacks the external entries of ${v.svcPortName}: ${v.absent.join(", ")}`
      : v.backend === "nftables"
        ? `Node "${v.node}" has no service-ips element for ${v.where}, although the API lists ready endpoints (${v.ready}): traffic to the ClusterIP is not translated on this node${healthClause(v)}`
        : v.foreignChain === undefined
          ? `Node "${v.node}" has no KUBE-SERVICES rule for ${v.where}, although the API lists ready endpoints (${v.ready}): traffic to the ClusterIP is not translated on this node${healthClause(v)}`
          : `Node "${v.node}" has no KUBE-SERVICES rule of its own for ${v.where} (ready endpoints: ${v.ready}): the rule for that address jumps to ${v.foreignChain}, which is not this port's chain${healthClause(v)}`,
  fix: (v) => `${RESTART_FIRST(v)} and check its log for sync errors`,
  references: [REF.proxier],
};

export const SERVICE_REJECTED: FindingEntry<ServiceRejectedValues> = {
  code: "service-rejected",
  severity: {
    rule: "error; warning when the service rules are also present",
    of: (v) => (v.alongsideRules ? "warning" : "error"),
  },
  title: "The node rejects the Service as having no endpoints",
  explanation:
    'The node still has kube-proxy\'s filter-table "has no endpoints" REJECT (or "no local endpoints" DROP) for the ClusterIP while the API has ready endpoints. Clients on that node get ECONNREFUSED.',
  message: (v) =>
    v.backend === "nftables" && v.alongsideRules
      ? `Node "${v.node}" still lists ${v.where} in its no-endpoint map (${v.target}) next to its service-ips element; the API lists ready endpoints (${v.ready})`
      : v.alongsideRules
        ? `Node "${v.node}" still has a "no endpoints" ${v.target} rule for ${v.where} next to its service rules; the API lists ready endpoints (${v.ready})`
        : v.target === "DROP"
          ? `Node "${v.node}" drops ${v.where} as having no local endpoints, but the API lists ready endpoints (${v.ready}): clients on this node time out${healthClause(v)}`
          : `Node "${v.node}" rejects ${v.where} as having no endpoints, but the API lists ready endpoints (${v.ready}): clients on this node get "Connection refused"${healthClause(v)}`,
  fix: (v) =>
    v.backend === "nftables"
      ? `${RESTART_FIRST(v)} and ${NFT_LOG}`
      : v.alongsideRules
        ? `${RESTART_FIRST(v)} so it rewrites the filter table`
        : `kube-proxy on "${v.node}" has not synced since the endpoints became ready: check its log for "Failed to execute iptables-restore", then ${restartKubeProxy(v.node, v.nodeKind)}`,
  references: [REF.proxier, REF.noEndpointsReject],
};

export const CHAIN_UNDEFINED: FindingEntry<ChainUndefinedValues> = {
  code: "chain-undefined",
  severity: "error",
  title: "A rule jumps to a chain the dump never declares",
  explanation:
    "A rule jumps to a chain the dump never declares. iptables-restore would refuse such a ruleset, so the dump is cut or the save was broken.",
  message: (v) =>
    v.where === undefined
      ? `Node "${v.node}" jumps to chain ${v.chain} in table ${v.table}, which the dump never declares`
      : `Node "${v.node}" sends ${v.where} to chain ${v.chain}, which the dump never declares: the rules are incomplete`,
  fix: (v) =>
    `Collect the dump again (a cut or partly failed iptables-save); if it persists, ${v.where === undefined ? "restart the component that owns the rule" : `${restartKubeProxy(v.node, v.nodeKind)} so it rewrites its chains`}`,
  references: [REF.proxier],
};

export const CHAIN_LEFTOVER: FindingEntry<ChainLeftoverValues> = {
  code: "chain-leftover",
  severity: {
    rule: "warning while a rule still jumps into one; info when none does",
    of: (v) => (v.inUse > 0 ? "warning" : "info"),
  },
  title: "kube-proxy chains no Service accounts for",
  explanation:
    "KUBE-SVC/SVL/EXT/FW/XLB chains whose hash matches no current Service port, and KUBE-SEP chains no current endpoint accounts for and nothing jumps to. kube-proxy deletes them on a successful sync, so they mean deleted Services plus syncs that stopped, while a rule still jumps into one. Unused ones are harmless: kube-proxy v1.26+ syncs partially and deletes unreferenced chains at its periodic cleanup, so they may linger for a sync.",
  message: (v) =>
    v.inUse > 0
      ? `Node "${v.node}" has ${v.count} kube-proxy chain${v.count > 1 ? "s" : ""} that no current Service or endpoint accounts for, ${v.inUse} still jumped to (deleted Services, or syncs that stopped)`
      : `Node "${v.node}" has ${v.count} kube-proxy chain${v.count > 1 ? "s" : ""} that no current Service or endpoint accounts for and no rule uses (kube-proxy deletes them at its next cleanup)`,
  fix: (v) =>
    `kube-proxy deletes such chains on a successful sync: ${restartKubeProxy(v.node, v.nodeKind)} and check its log for sync errors`,
  references: [REF.proxier],
};

export const TRACE_UNKNOWN: FindingEntry<TraceUnknownValues> = {
  code: "trace-unknown",
  severity: "warning",
  title: "The trace cannot decide part of the packet's fate",
  explanation:
    "The packet trace on the client's node reached a rule it cannot evaluate from a dump (a match module it does not know, state such as `recent` or conntrack it cannot see), so part of the packet's fate is undecided rather than guessed; the node-dataplane link is undecided.",
  message: (v) => `The trace on ${v.node} cannot decide ${v.share}% of the packet's paths: ${v.reason}`,
  fix: () =>
    "Check the listed rules by hand, or run `netdoctor trace` on the node's dump with the missing facts (interfaces, marks)",
  references: [],
};

export const PATH_BLOCKED: FindingEntry<PathBlockedValues> = {
  code: "path-blocked",
  severity: "error",
  title: "The client node's rules drop or reject the packet",
  explanation:
    "The packet trace through the client node's rules ends in a DROP or REJECT (a firewall rule, a chain policy, a NetworkPolicy chain) on the way to the destination.",
  message: (v) =>
    `The trace on ${v.node}: ${v.share}% of the connections are ${v.outcome} by ${v.by}; the client ${v.clientSees}`,
  fix: () =>
    "Read the rule that decides (and the component that owns it): allow the traffic there, or connect to a destination it allows",
  references: [],
};
