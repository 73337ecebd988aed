/** Catalogue entries of NetworkPolicy: the API's answer, the node's answer, and where they differ. */
import type { FindingEntry } from "./finding-entry.ts";

const NETPOL_DOC = "https://kubernetes.io/docs/concepts/services-networking/network-policies/";

export interface NetpolDeniedValues {
  /** `client → ns/pod:port/PROTO`. */
  readonly connection: string;
  readonly direction: "ingress" | "egress";
  /** `ns/name` of the isolated pod (the server for ingress, the client for egress). */
  readonly pod: string;
  /** `ns/name` of the policies that isolate it. */
  readonly policies: readonly string[];
  /** The node whose rules reject, and where (`file:line`), when the node was walked. */
  readonly node?: string;
  readonly at?: string;
  /** When the API side cannot be decided but the node rejects: what the bundle lacks. */
  readonly apiUndecided?: string;
}

export interface NetpolNodeDisagreesValues {
  readonly connection: string;
  readonly node: string;
  /** What the API says about the connection. */
  readonly api: "allows" | "denies";
  /** `ns/name` of the policies that allow (api allows) or isolate (api denies). */
  readonly policies: readonly string[];
  /** The node's rejecting rule (`file:line`) when it rejects. */
  readonly at?: string;
  /** Policies the node's rules name as allowing, when it allows. */
  readonly nodeAllowedBy?: readonly string[];
}

export interface NetpolNotEnforcedValues {
  readonly connection: string;
  readonly node: string;
  readonly policies: readonly string[];
  /** True when the policies would deny the connection. */
  readonly denies: boolean;
}

export interface NetpolAllowedValues {
  readonly connection: string;
  /** `ns/name` of the policies whose rules admit it (egress and ingress). */
  readonly policies: readonly string[];
  /** `node file:line` of each node rule that marked the packet for a policy. */
  readonly nodeRules: readonly string[];
}

export interface NetpolDnsDeniedValues {
  /** `ns/name` of the client. */
  readonly pod: string;
  /** `ns/name` of the policies that stop its queries. */
  readonly policies: readonly string[];
}

const list = (xs: readonly string[]) => xs.join(", ");

export const NETPOL_DENIED: FindingEntry<NetpolDeniedValues> = {
  code: "netpol-denied",
  severity: "error",
  title: "A NetworkPolicy denies the connection",
  explanation:
    "Policies select the client (egress) or the endpoint pod (ingress) and none of their rules admits this connection, so the packet is rejected (kube-router) or dropped. The finding names the isolating policies with the line of each object and, when the node's rules were evaluated, the rule that rejects and the ipset lines it read.",
  message: (v) =>
    v.apiUndecided !== undefined
      ? `Node "${v.node}"'s NetworkPolicy rules reject ${v.connection} at ${v.at}; the API side cannot be decided (${v.apiUndecided})`
      : `NetworkPolicy denies ${v.connection}: ${v.direction} of ${v.pod} is isolated by ${list(v.policies)} and no rule allows it` +
        (v.at === undefined ? "" : `; node "${v.node}" rejects it at ${v.at}`),
  fix: (v) =>
    v.apiUndecided !== undefined
      ? "Collect what the bundle lacks to see which policy decides, then add a rule that admits the connection"
      : `Add an ${v.direction} rule admitting ${v.connection} to a policy that selects ${v.pod} (or change the pod's labels so another policy admits it)`,
  references: [NETPOL_DOC],
};

export const NETPOL_NODE_DISAGREES: FindingEntry<NetpolNodeDisagreesValues> = {
  code: "netpol-node-disagrees",
  severity: "error",
  title: "The node's NetworkPolicy rules disagree with the policies",
  explanation:
    "The API's policies and the node's NetworkPolicy chains give different answers for the connection: the controller's ipsets or chains on the node are stale, e.g. an ipset that misses the client's address, or holds one address for a named port (k3s-io/k3s#7446, #7391). The node's answer is what the packet meets.",
  message: (v) =>
    v.api === "allows"
      ? `The API allows ${v.connection}${v.policies.length > 0 ? ` (${list(v.policies)})` : ""}, but node "${v.node}" rejects it at ${v.at}: its ipsets or chains are stale (e.g. an ipset missing the client's address)`
      : `The API denies ${v.connection} (isolated by ${list(v.policies)}, no rule allows it), but node "${v.node}"'s rules allow it${v.nodeAllowedBy !== undefined && v.nodeAllowedBy.length > 0 ? ` by ${list(v.nodeAllowedBy)}` : ""}: its chains or ipsets are stale`,
  fix: (v) =>
    `Restart the NetworkPolicy controller on "${v.node}" (k3s: restart k3s) so it rewrites its chains and ipsets, then collect again; if it persists, compare \`ipset save\` with the pods the policy selects`,
  references: ["k3s-io/k3s#7446", "k3s-io/k3s#7391"],
};

export const NETPOL_NOT_ENFORCED: FindingEntry<NetpolNotEnforcedValues> = {
  code: "netpol-not-enforced",
  severity: "warning",
  title: "NetworkPolicies exist but the node enforces none",
  explanation:
    "Policies select the pods of the connection, but the node has no NetworkPolicy controller's chains (no kube-router KUBE-ROUTER-*/KUBE-POD-FW-*, no Calico, Cilium, Antrea, Weave or OVN chains): nothing enforces them there, e.g. k3s started with --disable-network-policy, or a CNI without policy support.",
  message: (v) =>
    v.denies
      ? `NetworkPolicy ${list(v.policies)} would deny ${v.connection}, but node "${v.node}" has no NetworkPolicy controller's rules: nothing enforces it`
      : `NetworkPolicy ${list(v.policies)} select the pods of ${v.connection}, but node "${v.node}" has no NetworkPolicy controller's rules: nothing enforces them`,
  fix: () =>
    "Enable a NetworkPolicy controller on the node (k3s: do not start the server with --disable-network-policy; or use a CNI that enforces policies), or do not rely on the policies",
  references: [NETPOL_DOC],
};

export const NETPOL_ALLOWED: FindingEntry<NetpolAllowedValues> = {
  code: "netpol-allowed",
  severity: "info",
  title: "NetworkPolicies isolate the pods and allow the connection",
  explanation:
    "Policies select the client (egress) or the endpoint pod (ingress), a rule of one of them admits the connection, and the node's NetworkPolicy rules agree: the finding names the deciding policies with their lines and the node rules that marked the packet, so a report shows which policy the connection depends on.",
  message: (v) =>
    `NetworkPolicy ${list(v.policies)} allow${v.policies.length === 1 ? "s" : ""} ${v.connection}` +
    (v.nodeRules.length === 0 ? "" : `; the node's rules agree (${list(v.nodeRules)})`),
  fix: () => "Nothing to fix: keep the allowing rule when the policies change",
  references: [NETPOL_DOC],
};

export const NETPOL_DNS_DENIED: FindingEntry<NetpolDnsDeniedValues> = {
  code: "netpol-dns-denied",
  severity: "error",
  title: "A NetworkPolicy stops the client's DNS queries",
  explanation:
    "The client uses the cluster DNS (dnsPolicy ClusterFirst) but no kube-dns pod admits it on 53/UDP: an egress policy selects the client without a rule for DNS (the classic default-deny egress), or the DNS pods' ingress is isolated. Every name lookup fails before a connection is tried.",
  message: (v) =>
    `No kube-dns pod admits ${v.pod} on 53/UDP (${list(v.policies)}): it cannot resolve Service names at all`,
  fix: () =>
    "Allow egress to the kube-dns pods on 53/UDP and 53/TCP, e.g. an egress rule `to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]` with ports 53/UDP and 53/TCP",
  references: [NETPOL_DOC],
};
