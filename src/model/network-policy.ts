/**
 * NetworkPolicy (networking.k8s.io/v1) and Namespace as plain data, field names as in the
 * Kubernetes API so a `kubectl get networkpolicies -A -o json` item maps one to one. Absent and
 * empty lists mean the same in the API (`from` absent or `[]`: every source), so both are `undefined`
 * or `[]` here and readers treat them alike.
 */
import type { ObjectMeta, ObjectSource } from "./cluster.ts";

/** A `matchExpressions` requirement (metav1.LabelSelectorRequirement). */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

/** metav1.LabelSelector: every matchLabels pair and every requirement must hold; `{}` selects all. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface IPBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

/** One peer: pods by selector (in the policy's namespace, or in the selected namespaces), or an IP block. */
export interface NetworkPolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IPBlock;
}

export interface NetworkPolicyPort {
  /** TCP (the API default), UDP or SCTP. */
  readonly protocol?: string;
  /** A number, or the name of a container port of the pod the traffic goes to. Absent: every port. */
  readonly port?: number | string;
  /** With a numeric `port`: the range `port`..`endPort`. */
  readonly endPort?: number;
}

export interface NetworkPolicyIngressRule {
  readonly from?: readonly NetworkPolicyPeer[];
  readonly ports?: readonly NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  readonly to?: readonly NetworkPolicyPeer[];
  readonly ports?: readonly NetworkPolicyPort[];
}

export type PolicyType = "Ingress" | "Egress";

export interface NetworkPolicy {
  readonly metadata: ObjectMeta;
  /** Which pods of the policy's namespace it applies to (`{}`: all). */
  readonly podSelector: LabelSelector;
  /** As stored; the API server defaults it on create, hand-written input may omit it. */
  readonly policyTypes?: readonly PolicyType[];
  readonly ingress?: readonly NetworkPolicyIngressRule[];
  readonly egress?: readonly NetworkPolicyEgressRule[];
  readonly source?: ObjectSource;
}

export interface Namespace {
  readonly metadata: ObjectMeta;
  readonly source?: ObjectSource;
}

/**
 * The policy side of a bundle. `undefined` lists were not collected (a verdict that needs them is
 * undecided); an empty list was collected and holds nothing.
 */
export interface NetworkPolicyState {
  readonly policies?: readonly NetworkPolicy[];
  readonly namespaces?: readonly Namespace[];
}
