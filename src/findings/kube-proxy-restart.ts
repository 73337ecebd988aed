/**
 * The one piece of "restart kube-proxy" advice, chosen from what the node object says it is: on k3s
 * kube-proxy runs inside the k3s process (`k3s` on servers, `k3s-agent` on agents), on RKE2 it is a
 * static pod (rancher/rke2#751), on kubeadm clusters a DaemonSet pod.
 */
import type { Node } from "../model/cluster.ts";

export type Distribution = "k3s" | "rke2" | "kubeadm" | "unknown";
export type NodeRole = "server" | "agent" | "unknown";

/** What runs kube-proxy on a node, and the evidence for it. */
export interface NodeKind {
  readonly distribution: Distribution;
  readonly role: NodeRole;
}

const UNKNOWN: NodeKind = { distribution: "unknown", role: "unknown" };

function hasKeyPrefix(map: Readonly<Record<string, string>> | undefined, prefix: string): boolean {
  return Object.keys(map ?? {}).some((k) => k.startsWith(prefix));
}

/** `k3s.io/node-args` is a JSON array whose first element is `server` or `agent`. */
function roleFromArgs(args: string | undefined): NodeRole {
  if (args === undefined) return "unknown";
  try {
    const parsed: unknown = JSON.parse(args);
    const first = Array.isArray(parsed) ? parsed[0] : undefined;
    return first === "server" ? "server" : first === "agent" ? "agent" : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * The distribution and role of a node from its labels, annotations and kubelet version: k3s
 * (`k3s.io/*` annotations, `+k3s` versions), RKE2 (`rke2.io/*`, `+rke2`), kubeadm
 * (`kubeadm.alpha.kubernetes.io/*`). k3s and RKE2 label servers `node-role.kubernetes.io/control-plane`
 * (or `master`); a node of theirs without the label is an agent.
 *
 * @example
 * ```ts
 * nodeKindOf({ metadata: { name: "a1" }, addresses: [], kubeletVersion: "v1.23.6+k3s1" });
 * // { distribution: "k3s", role: "agent" }
 * ```
 */
export function nodeKindOf(node: Node | undefined): NodeKind {
  if (node === undefined) return UNKNOWN;
  const { labels, annotations } = node.metadata;
  const version = node.kubeletVersion ?? "";
  const distribution: Distribution =
    hasKeyPrefix(annotations, "rke2.io/") || version.includes("+rke2")
      ? "rke2"
      : hasKeyPrefix(annotations, "k3s.io/") ||
          version.includes("+k3s") ||
          labels?.["node.kubernetes.io/instance-type"] === "k3s"
        ? "k3s"
        : hasKeyPrefix(annotations, "kubeadm.alpha.kubernetes.io/")
          ? "kubeadm"
          : "unknown";
  if (distribution === "unknown" || distribution === "kubeadm") return { distribution, role: "unknown" };
  const fromArgs = roleFromArgs(annotations?.[`${distribution}.io/node-args`]);
  if (fromArgs !== "unknown") return { distribution, role: fromArgs };
  const server =
    labels?.["node-role.kubernetes.io/control-plane"] !== undefined ||
    labels?.["node-role.kubernetes.io/master"] !== undefined;
  return { distribution, role: server ? "server" : "agent" };
}

function daemonSetPod(node: string): string {
  return `\`kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=${node}\``;
}

/**
 * `restart kube-proxy on "agent1" (k3s agent: \`systemctl restart k3s-agent\`)`: the advice for this
 * node, or every variant when the node's kind is not known.
 */
export function restartKubeProxy(node: string, kind: NodeKind = UNKNOWN): string {
  const how = restartHow(node, kind);
  return `restart kube-proxy on "${node}" (${how})`;
}

function restartHow(node: string, kind: NodeKind): string {
  switch (kind.distribution) {
    case "k3s":
      if (kind.role === "server") return "k3s server: `systemctl restart k3s`";
      if (kind.role === "agent") return "k3s agent: `systemctl restart k3s-agent`";
      return "k3s: `systemctl restart k3s` on a server, `systemctl restart k3s-agent` on an agent";
    case "rke2":
      return "RKE2 runs it as a static pod: `crictl stop $(crictl ps -q --name kube-proxy)` on the node, the kubelet starts it again";
    case "kubeadm":
      return `a DaemonSet pod: ${daemonSetPod(node)}`;
    case "unknown":
      return `k3s: \`systemctl restart k3s\` on a server, \`k3s-agent\` on an agent; kubeadm: ${daemonSetPod(node)}`;
    default: {
      const never: never = kind.distribution;
      throw new TypeError(`Unknown distribution ${String(never)}`);
    }
  }
}
