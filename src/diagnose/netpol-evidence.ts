/**
 * What the `network-policy` link reads besides the API objects: the bundle's NetworkPolicy and
 * Namespace lists, and for each node that enforces the connection (the client's node for egress,
 * each endpoint pod's node for ingress) its iptables dump and `ipset save`. The collect side
 * (collect/read-netpol-evidence.ts) fills it for the nodes {@linkcode policyNodes} names.
 */
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { ClusterState, Pod } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import type { NetworkPolicyState } from "../model/network-policy.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { dnsTargets } from "../netpol/dns-verdict.ts";
import type { Question } from "./question.ts";

/** One enforcing node's evidence. */
export interface NetpolNodeEvidence {
  readonly node: string;
  /** Bundle-relative path of its iptables dump. */
  readonly file: string;
  /** Undefined when the dump is missing or unreadable. */
  readonly ruleset?: Ruleset;
  /** Bundle-relative path of its `ipset save`. */
  readonly ipsetFile: string;
  /** Undefined when the bundle has no ipset-save.txt for the node. */
  readonly ipsets?: IpsetSave;
}

/** The NetworkPolicy side of a bundle, for one question. */
export interface NetpolEvidence {
  readonly state: NetworkPolicyState;
  /** `bundle-invalid` problems of cluster/networkpolicies.json and cluster/namespaces.json. */
  readonly problems: readonly Finding[];
  /** By node name; a node on the path without an entry had no directory in the bundle. */
  readonly nodes: ReadonlyMap<string, NetpolNodeEvidence>;
}

/** One endpoint pod the connection may end at, with the port it is reached on. */
export interface PolicyTarget {
  readonly pod: Pod;
  readonly ip: string;
  readonly port: number;
}

/** The endpoint pods of the question's targets (`ip:port` after Service resolution), in order. */
export function policyTargets(q: Question, cluster: ClusterState): PolicyTarget[] {
  const out: PolicyTarget[] = [];
  for (const t of q.targets ?? []) {
    const i = t.lastIndexOf(":");
    const ip = t.slice(0, i);
    const port = Number(t.slice(i + 1));
    const pod = cluster.pods.find(
      (p) => p.hostNetwork !== true && (p.podIP === ip || (p.podIPs ?? []).includes(ip)),
    );
    if (pod !== undefined && Number.isInteger(port)) out.push({ pod, ip, port });
  }
  return out;
}

/**
 * The nodes whose rules enforce the question's connection: the client's, each endpoint pod's, and,
 * when the client looks the name up in the cluster DNS, each DNS pod's (its queries' ingress).
 */
export function policyNodes(q: Question, cluster: ClusterState): string[] {
  const nodes = new Set<string>();
  if (q.client.nodeName !== undefined) nodes.add(q.client.nodeName);
  for (const t of policyTargets(q, cluster)) if (t.pod.nodeName !== undefined) nodes.add(t.pod.nodeName);
  const dns = q.usesClusterDns ? dnsTargets(cluster) : [];
  if (typeof dns !== "string")
    for (const t of dns) if (t.pod.nodeName !== undefined) nodes.add(t.pod.nodeName);
  return [...nodes];
}
