/**
 * A node whose kube-proxy runs in IPVS mode, judged with the IPVS reconciliation
 * (kube-proxy/ipvs/) instead of the iptables-mode checks: its `ipvsadm -Sn` (nodes/NODE/ipvsadm.txt)
 * against the Services and ready endpoints, and, when collected, the KUBE-CLUSTER-IP and node-port
 * ipsets its iptables glue matches. Without ipvsadm.txt the node's data plane is undecided, with
 * the command that collects it. This machine's kernel has no IPVS: the expectations follow
 * kube-proxy's pkg/proxy/ipvs/proxier.go (see docs/bundle.md).
 */

import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { IpvsTable } from "../ipvs/ipvs-model.ts";
import { parseIpvsadm } from "../ipvs/parse-ipvsadm.ts";
import type { EvidenceFile } from "../known-bugs/node-evidence.ts";
import { reconcileIpvs } from "../kube-proxy/ipvs/reconcile-ipvs.ts";
import { reconcileIpvsIpsets } from "../kube-proxy/ipvs/reconcile-ipvs-ipsets.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { nodeAddresses } from "../net/node-addresses.ts";
import { clusterRanges } from "./cluster-ranges.ts";
import type { Question } from "./question.ts";

/** The Services a question's walk reconciles: the asked one and, for a name, the cluster DNS. */
export function askedServices(q: Question): ReadonlySet<string> {
  const out = new Set<string>();
  if (q.expected !== undefined) out.add(q.expected.service);
  if (q.usesClusterDns && q.dnsPort !== undefined) out.add(q.dnsPort.service);
  return out;
}

/** What the IPVS reconciliation of a node found. */
export interface IpvsNodeFacts {
  /** The parsed table; undefined when the bundle has no ipvsadm.txt for the node. */
  readonly table?: IpvsTable;
  readonly findings: readonly Finding[];
  /** Why the node cannot be checked, when it cannot (no ipvsadm.txt). */
  readonly undecided?: string;
  /** Caveats (the ipsets were not collected). */
  readonly notes: readonly string[];
}

/**
 * Reconciles an IPVS-mode node. `only` limits findings to these Services (`namespace/name`), as a
 * question's walk reconciles only its own.
 *
 * @example
 * ```ts
 * ipvsNodeFacts(cluster, { node: "n1", ipvsadm: { file: "nodes/n1/ipvsadm.txt", text } }).findings; // []
 * ```
 */
export function ipvsNodeFacts(
  cluster: ClusterState,
  input: {
    readonly node: string;
    readonly ipvsadm?: EvidenceFile;
    readonly ipsets?: IpsetSave;
    readonly only?: ReadonlySet<string>;
  },
): IpvsNodeFacts {
  const { node } = input;
  if (input.ipvsadm === undefined)
    return {
      findings: [],
      notes: [],
      undecided: `Node "${node}" runs kube-proxy in IPVS mode, and the bundle has no nodes/${node}/ipvsadm.txt: collect it with \`ssh ${node} sudo ipvsadm -Sn > nodes/${node}/ipvsadm.txt\` (or \`netdoctor collect --nodes ${node}\`)`,
    };
  const table = parseIpvsadm(input.ipvsadm.text, { file: input.ipvsadm.file });
  const nodeObj = cluster.nodes.find((n) => n.metadata.name === node);
  const nodeIps = nodeObj === undefined ? [] : nodeAddresses(nodeObj).map((a) => a.address);
  // A leftover virtual server is only kube-proxy's when it is in the Service range: the range the
  // distribution uses by default when known (k3s 10.43.0.0/16), else the one covering every ClusterIP.
  const ranges = clusterRanges(cluster);
  const serviceCidr = ranges.assumed.find((r) => r.role === "service")?.cidr ?? ranges.service?.cidr;
  const found = [
    ...reconcileIpvs(cluster, table, {
      node,
      nodeIps,
      ...(serviceCidr === undefined ? {} : { serviceCidr }),
    }),
    ...(input.ipsets === undefined ? [] : reconcileIpvsIpsets(cluster, input.ipsets, { node })),
  ];
  const findings =
    input.only === undefined
      ? found
      : found.filter((f) => f.service === undefined || input.only!.has(f.service));
  const notes =
    input.ipsets === undefined
      ? [
          `nodes/${node}/ipset-save.txt was not collected: the KUBE-CLUSTER-IP and node-port ipsets were not checked`,
        ]
      : [];
  return { table, findings, notes };
}
