/**
 * A node's data-plane findings for the diagnosis builder, by proxy mode: iptables mode is what
 * reconcileNode found; an IPVS-mode node is judged by its IPVS table (ipvs-node.ts), not by the
 * iptables checks, which reconcileNode leaves undecided for it.
 */
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { KubeProxyNodeFiles } from "../kube-proxy/kube-proxy-files.ts";
import type { ReconcileResult } from "../kube-proxy/reconcile-node.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { askedServices, type IpvsNodeFacts, ipvsNodeFacts } from "./ipvs-node.ts";
import type { Question } from "./question.ts";

export interface DataplaneFacts {
  readonly dataplane: readonly Finding[];
  /** Why the node's data plane cannot be checked, when it cannot. */
  readonly proxyUndecided?: string;
  readonly ipvs?: IpvsNodeFacts;
}

/** The findings and the undecided reason of one node, from its reconciliation and, in IPVS mode, its IPVS table. */
export function dataplaneFacts(
  reconciled: (ReconcileResult & { readonly undecided?: string }) | undefined,
  cluster: ClusterState,
  at: {
    readonly node: string;
    readonly input: { readonly kubeProxy?: KubeProxyNodeFiles; readonly ipsets?: IpsetSave };
    readonly question: Question | undefined;
  },
): DataplaneFacts {
  const found = reconciled?.findings ?? [];
  if (reconciled?.mode !== "ipvs")
    return {
      dataplane: found,
      ...(reconciled?.undecided === undefined ? {} : { proxyUndecided: reconciled.undecided }),
    };
  const { kubeProxy, ipsets } = at.input;
  const ipvs = ipvsNodeFacts(cluster, {
    node: at.node,
    ...(kubeProxy?.ipvsadm === undefined ? {} : { ipvsadm: kubeProxy.ipvsadm }),
    ...(ipsets === undefined ? {} : { ipsets }),
    ...(at.question === undefined ? {} : { only: askedServices(at.question) }),
  });
  return {
    dataplane: [...found, ...ipvs.findings],
    ...(ipvs.undecided === undefined ? {} : { proxyUndecided: ipvs.undecided }),
    ipvs,
  };
}
