/**
 * What the question's trace (and the node's NetworkPolicy walk) needs for NetworkPolicy chains:
 * the node's ipsets (`-m set`) and whether the packet crosses the cni0 bridge (`-m physdev`, which
 * kube-router's KUBE-ROUTER-FORWARD uses for pods of the same node). A pod's packet to a pod of its
 * own node is bridged, whether it addresses the pod or a Service DNATed to it: br_netfilter bridges
 * a DNATed packet whose route goes back out of the bridge it came in by (br_nf_pre_routing_finish,
 * bridged_dnat; kernel-checked by src/testing/overlay-lab-kube-router.test.ts, whose physdev
 * counters move for both). A packet to another node is routed.
 */
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { TraceOptions } from "../trace/trace-packet.ts";
import { policyTargets } from "./netpol-evidence.ts";
import type { Question } from "./question.ts";

/** Where the builder traces: the client node, its dump's bundle path, and its ipsets when collected. */
export interface TraceAt {
  readonly node: string;
  readonly file: string;
  readonly ipsets?: IpsetSave | undefined;
}

/** Whether the question's packet crosses the bridge to reach `targetNode`. */
export function crossesBridge(q: Question, targetNode: string | undefined): boolean {
  return q.client.hostNetwork !== true && targetNode !== undefined && targetNode === q.client.nodeName;
}

/** The trace options the question adds: the node's ipsets and `bridged`. */
export function traceExtras(
  q: Question,
  cluster: ClusterState,
  ipsets: IpsetSave | undefined,
): Pick<TraceOptions, "ipsets" | "bridged"> {
  const targets = policyTargets(q, cluster);
  const bridged = targets.length > 0 && targets.every((t) => crossesBridge(q, t.pod.nodeName));
  return { ...(ipsets === undefined ? {} : { ipsets }), bridged };
}
