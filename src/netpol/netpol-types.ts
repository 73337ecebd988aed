/**
 * The question a NetworkPolicy verdict answers and the shape of the answer. The client may be a
 * pod or a bare address (a node, something outside the cluster); the server is the endpoint pod
 * the Service resolved to, and the port is its target port.
 */
import type { Pod } from "../model/cluster.ts";
import type { NetworkPolicyState } from "../model/network-policy.ts";

/** NetworkPolicy protocols. */
export type NetpolProtocol = "TCP" | "UDP" | "SCTP";

/** A client that is not a pod: only ipBlock peers and "every source" rules can select it. */
export interface AddressClient {
  readonly ip: string;
}

export interface NetpolQuery {
  readonly client: Pod | AddressClient;
  readonly server: Pod;
  /** The target port on the server pod (after Service resolution). */
  readonly port: number;
  readonly protocol: NetpolProtocol;
}

/** What the verdict reads: the policies and namespaces of the bundle. */
export interface NetpolInput {
  readonly state: NetworkPolicyState;
}

/** A policy object, with where it was read (bundle file and the line of its uid). */
export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
  readonly file?: string;
  readonly line?: number;
}

/** One rule that allows the connection: which policy, which rule (0-based), and why in words. */
export interface AllowingRule {
  readonly policy: PolicyRef;
  readonly rule: number;
  readonly why: string;
}

export type NetpolDecision = "allowed" | "denied" | "undecided";

/** The verdict of one direction: ingress at the server, or egress at the client. */
export interface DirectionVerdict {
  readonly direction: "ingress" | "egress";
  readonly decision: NetpolDecision;
  /** Policies that select the pod for this direction (isolating it). */
  readonly selecting: readonly PolicyRef[];
  readonly allowedBy: readonly AllowingRule[];
  /** Why the answer is what it is, in one sentence. */
  readonly reason: string;
  /** What the evidence lacked, for `undecided` (and rules that could not be evaluated). */
  readonly missing: readonly string[];
}

export interface NetpolVerdict {
  readonly decision: NetpolDecision;
  readonly ingress: DirectionVerdict;
  readonly egress: DirectionVerdict;
  /** Caveats that do not change the answer (hostNetwork pods, ipBlock on pod addresses...). */
  readonly notes: readonly string[];
}

/** Whether a client is a pod. */
export function isPod(client: Pod | AddressClient): client is Pod {
  return (client as Pod).metadata !== undefined;
}
