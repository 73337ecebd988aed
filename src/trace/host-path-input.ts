/**
 * What a path across nodes is evaluated from (the bundle's host side, already read and parsed):
 * every node's host evidence (src/hostnet), the flannel view of the nodes, the live pod placements,
 * and the iptables rules of the nodes whose dumps were read. Built by
 * src/collect/read-host-evidence.ts; pure from here on.
 */
import { type FlannelNode, flannelNode, type NodeExtras } from "../hostnet/flannel-node.ts";
import type { HostEvidence } from "../hostnet/host-evidence.ts";
import { type PodPlacement, podPlacements } from "../hostnet/pod-placement.ts";
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { IpvsTable } from "../ipvs/ipvs-model.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Ruleset } from "../model/ruleset.ts";

/** The host side of a bundle, for the multi-hop trace and diagnose's route/overlay/endpoint-node links. */
export interface HostPathInput {
  readonly cluster: ClusterState;
  /** Every node directory's parsed host files, by node name (missing files are listed per node). */
  readonly hosts: ReadonlyMap<string, HostEvidence>;
  /** The flannel view (public-ip, VtepMAC, pod CIDR) of every Node object. */
  readonly nodes: readonly FlannelNode[];
  /** Live pod IPs and the node each is on. */
  readonly pods: readonly PodPlacement[];
  /** iptables-save of the nodes whose dumps were read; a node absent here makes its hooks undecided. */
  readonly rulesets: ReadonlyMap<string, Ruleset>;
  /**
   * `ipset save` (nodes/NODE/ipset-save.txt) of the nodes whose rules were read and that have the
   * file; without it a node's `-m set` rules are undecided (kube-router's, kube-proxy's IPVS glue).
   */
  readonly ipsets: ReadonlyMap<string, IpsetSave>;
  /**
   * The IPVS table (nodes/NODE/ipvsadm.txt, kube-proxy's IPVS mode) of the nodes whose rules were
   * read and that have one: a packet for a virtual service is scheduled to its real servers.
   */
  readonly ipvs: ReadonlyMap<string, IpvsTable>;
}

/**
 * Assembles a {@linkcode HostPathInput} from a cluster, the parsed host files and the node
 * annotations read from cluster/nodes.json (flannel's are not in the typed Node model).
 *
 * @example
 * ```ts
 * hostPathInput(cluster, { hosts, extras: nodeExtrasFromJson(nodesJsonText), rulesets, ipsets });
 * ```
 */
export function hostPathInput(
  cluster: ClusterState,
  parts: {
    readonly hosts: ReadonlyMap<string, HostEvidence>;
    readonly extras: ReadonlyMap<string, NodeExtras>;
    readonly rulesets: ReadonlyMap<string, Ruleset>;
    readonly ipsets?: ReadonlyMap<string, IpsetSave>;
    readonly ipvs?: ReadonlyMap<string, IpvsTable>;
  },
): HostPathInput {
  const nodes = cluster.nodes.map((n) => {
    const x = parts.extras.get(n.metadata.name);
    return flannelNode(n, { file: "cluster/nodes.json", ...(x === undefined ? {} : { extras: x }) });
  });
  return {
    cluster,
    hosts: parts.hosts,
    nodes,
    pods: podPlacements(cluster, { file: "cluster/pods.json" }),
    rulesets: parts.rulesets,
    ipsets: parts.ipsets ?? new Map(),
    ipvs: parts.ipvs ?? new Map(),
  };
}
