/**
 * Builders for NetworkPolicy tests: the e2e model of kubernetes/kubernetes
 * test/e2e/network/netpol (namespaces x, y, z labelled with their name; pods a, b, c labelled
 * `pod: NAME`, serving ports 80 and 81 on TCP, UDP and SCTP with container ports named
 * `serve-PORT-PROTO`), and short constructors for policies and peers. Test support only.
 */
import type { Pod } from "../model/cluster.ts";
import type {
  LabelSelector,
  Namespace,
  NetworkPolicy,
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  NetworkPolicyPeer,
  PolicyType,
} from "../model/network-policy.ts";

const NS_INDEX: Readonly<Record<string, number>> = { x: 1, y: 2, z: 3 };
const POD_INDEX: Readonly<Record<string, number>> = { a: 1, b: 2, c: 3 };

/** The pod IP of `ns/pod` in the model: 10.42.<ns>.<pod>. */
export function modelIp(podString: string): string {
  const [ns, pod] = podString.split("/") as [string, string];
  return `10.42.${NS_INDEX[ns]}.${POD_INDEX[pod]}`;
}

/** One pod of the e2e model, e.g. `modelPod("x/a")`. */
export function modelPod(podString: string, labels?: Record<string, string>): Pod {
  const [ns, name] = podString.split("/") as [string, string];
  const ports = [80, 81].flatMap((port) =>
    ["TCP", "UDP", "SCTP"].map((protocol) => ({
      name: `serve-${port}-${protocol.toLowerCase()}`,
      containerPort: port,
      protocol,
    })),
  );
  return {
    metadata: { name, namespace: ns, labels: labels ?? { pod: name } },
    containers: [{ name: "cont", ports }],
    podIP: modelIp(podString),
    phase: "Running",
    nodeName: "node1",
  };
}

/** Namespaces x, y, z with their name label (and extra labels per namespace). */
export function modelNamespaces(extra: Readonly<Record<string, Record<string, string>>> = {}): Namespace[] {
  return ["x", "y", "z"].map((n) => ({
    metadata: { name: n, labels: { "kubernetes.io/metadata.name": n, ns: n, ...(extra[n] ?? {}) } },
  }));
}

interface PolicySpec {
  readonly podSelector?: LabelSelector;
  readonly ingress?: readonly NetworkPolicyIngressRule[];
  readonly egress?: readonly NetworkPolicyEgressRule[];
  /** Overrides the types derived from which rule lists are given (as e2e's SetSpec*Rules do). */
  readonly policyTypes?: readonly PolicyType[];
}

/** A policy in `ns`; giving `ingress`/`egress` (even empty) adds that policy type, as e2e's helpers do. */
export function policy(ns: string, name: string, spec: PolicySpec): NetworkPolicy {
  const types: PolicyType[] = [];
  if (spec.ingress !== undefined) types.push("Ingress");
  if (spec.egress !== undefined) types.push("Egress");
  return {
    metadata: { name, namespace: ns, uid: `uid-${ns}-${name}` },
    podSelector: spec.podSelector ?? {},
    policyTypes: spec.policyTypes ?? types,
    ...(spec.ingress === undefined ? {} : { ingress: spec.ingress }),
    ...(spec.egress === undefined ? {} : { egress: spec.egress }),
    source: { file: "cluster/networkpolicies.json", line: 1 },
  };
}

export const labels = (l: Record<string, string>): LabelSelector => ({ matchLabels: l });
export const podPeer = (l: Record<string, string>): NetworkPolicyPeer => ({ podSelector: labels(l) });
export const nsPeer = (l: Record<string, string>): NetworkPolicyPeer => ({ namespaceSelector: labels(l) });
export const nsName = (n: string): Record<string, string> => ({ "kubernetes.io/metadata.name": n });
