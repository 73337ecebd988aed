/**
 * The API's answer to "may this client reach this endpoint pod on this port": a pod is isolated in a
 * direction when a policy selecting it has that policy type; an isolated pod admits only what some
 * rule of some selecting policy allows (policies are additive, order does not matter); a connection
 * needs the client's egress and the server's ingress both to allow it. Semantics from the
 * NetworkPolicy API reference and the concepts page; defaulting of `policyTypes` from
 * SetDefaults_NetworkPolicySpec.
 */
import type { Pod } from "../model/cluster.ts";
import type {
  NetworkPolicy,
  NetworkPolicyEgressRule,
  NetworkPolicyIngressRule,
  PolicyType,
} from "../model/network-policy.ts";
import { selectorMatches } from "./label-selector.ts";
import type {
  AddressClient,
  AllowingRule,
  DirectionVerdict,
  NetpolInput,
  NetpolQuery,
  NetpolVerdict,
  PolicyRef,
} from "./netpol-types.ts";
import { isPod } from "./netpol-types.ts";
import { anyOf, peerMatches, portMatches, type Tri } from "./rule-match.ts";

/**
 * The policy types a policy has: as stored, or (for hand-written input without them) Ingress always
 * and Egress when it has egress rules, as the API server defaults them.
 */
export function effectivePolicyTypes(policy: NetworkPolicy): readonly PolicyType[] {
  if (policy.policyTypes !== undefined && policy.policyTypes.length > 0) return policy.policyTypes;
  return (policy.egress?.length ?? 0) > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

/** A reference to `policy` for answers and evidence. */
export function policyRef(policy: NetworkPolicy): PolicyRef {
  return {
    namespace: policy.metadata.namespace ?? "default",
    name: policy.metadata.name,
    ...(policy.source?.file === undefined ? {} : { file: policy.source.file }),
    ...(policy.source?.line === undefined ? {} : { line: policy.source.line }),
  };
}

/** Whether `policy` selects `pod` (same namespace, podSelector matches). hostNetwork pods are never selected. */
export function policySelects(policy: NetworkPolicy, pod: Pod): boolean {
  if (pod.hostNetwork === true) return false;
  if ((policy.metadata.namespace ?? "default") !== (pod.metadata.namespace ?? "default")) return false;
  return selectorMatches(policy.podSelector, pod.metadata.labels);
}

function ruleAdmits(
  rule: NetworkPolicyIngressRule | NetworkPolicyEgressRule,
  peer: Pod | AddressClient,
  query: NetpolQuery,
  policy: NetworkPolicy,
  input: NetpolInput,
): Tri {
  const peers = "from" in rule ? rule.from : (rule as NetworkPolicyEgressRule).to;
  const ctx = { policyNamespace: policy.metadata.namespace ?? "default", namespaces: input.state.namespaces };
  const peerOk =
    peers === undefined || peers.length === 0 ? true : anyOf(peers.map((p) => peerMatches(p, peer, ctx)));
  if (peerOk === false) return false;
  const ports = rule.ports ?? [];
  const portOk =
    ports.length === 0
      ? true
      : anyOf(ports.map((p) => portMatches(p, query.port, query.protocol, query.server)));
  if (portOk === false) return false;
  return peerOk === true && portOk === true ? true : typeof peerOk === "string" ? peerOk : portOk;
}

function describeTarget(query: NetpolQuery): string {
  const c = isPod(query.client)
    ? `${query.client.metadata.namespace}/${query.client.metadata.name}`
    : query.client.ip;
  return `${c} → ${query.server.metadata.namespace}/${query.server.metadata.name}:${query.port}/${query.protocol}`;
}

function direction(dir: "ingress" | "egress", input: NetpolInput, query: NetpolQuery): DirectionVerdict {
  const pod = dir === "ingress" ? query.server : isPod(query.client) ? query.client : undefined;
  const peer = dir === "ingress" ? query.client : query.server;
  const policies = input.state.policies;
  const none = (
    reason: string,
    decision: DirectionVerdict["decision"] = "allowed",
    missing: string[] = [],
  ): DirectionVerdict => ({
    direction: dir,
    decision,
    selecting: [],
    allowedBy: [],
    reason,
    missing,
  });
  if (pod === undefined) return none("the client is not a pod: no egress policy applies");
  if (pod.hostNetwork === true)
    return none(
      `${pod.metadata.namespace}/${pod.metadata.name} uses the host network: NetworkPolicy does not select it`,
    );
  if (policies === undefined) {
    const what = "cluster/networkpolicies.json was not collected (kubectl get networkpolicies -A -o json)";
    return none(what, "undecided", [what]);
  }
  const type: PolicyType = dir === "ingress" ? "Ingress" : "Egress";
  const selecting = policies.filter((p) => effectivePolicyTypes(p).includes(type) && policySelects(p, pod));
  const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
  if (selecting.length === 0) return none(`no policy selects ${who} for ${dir}: it is not isolated`);
  const allowedBy: AllowingRule[] = [];
  const missing: string[] = [];
  for (const policy of selecting) {
    const rules = (dir === "ingress" ? policy.ingress : policy.egress) ?? [];
    rules.forEach((rule, i) => {
      const r = ruleAdmits(rule, peer, query, policy, input);
      if (r === true)
        allowedBy.push({
          policy: policyRef(policy),
          rule: i,
          why: `${dir}[${i}] admits ${describeTarget(query)}`,
        });
      else if (typeof r === "string" && !missing.includes(r)) missing.push(r);
    });
  }
  const refs = selecting.map(policyRef);
  const names = refs.map((r) => `${r.namespace}/${r.name}`).join(", ");
  if (allowedBy.length > 0) {
    const by = [...new Set(allowedBy.map((a) => `${a.policy.namespace}/${a.policy.name}`))].join(", ");
    return {
      direction: dir,
      decision: "allowed",
      selecting: refs,
      allowedBy,
      reason: `${dir} of ${who} is isolated by ${names}; allowed by ${by}`,
      missing,
    };
  }
  if (missing.length > 0) {
    return {
      direction: dir,
      decision: "undecided",
      selecting: refs,
      allowedBy,
      reason: `${dir} of ${who} is isolated by ${names}; whether a rule allows it cannot be decided`,
      missing,
    };
  }
  return {
    direction: dir,
    decision: "denied",
    selecting: refs,
    allowedBy,
    reason: `${dir} of ${who} is isolated by ${names} and no rule allows ${describeTarget(query)}`,
    missing,
  };
}

/**
 * The API verdict for one connection.
 *
 * @example
 * ```ts
 * const v = networkPolicyVerdict({ state: { policies, namespaces } }, { client, server, port: 8080, protocol: "TCP" });
 * v.decision; // "denied"
 * v.ingress.selecting; // [{ namespace: "shop", name: "default-deny", file: "cluster/networkpolicies.json", line: 12 }]
 * ```
 */
export function networkPolicyVerdict(input: NetpolInput, query: NetpolQuery): NetpolVerdict {
  const ingress = direction("ingress", input, query);
  const egress = direction("egress", input, query);
  const decision =
    ingress.decision === "denied" || egress.decision === "denied"
      ? "denied"
      : ingress.decision === "undecided" || egress.decision === "undecided"
        ? "undecided"
        : "allowed";
  const notes: string[] = [];
  const client = query.client;
  if (isPod(client) && client.hostNetwork === true) {
    notes.push(
      `${client.metadata.namespace}/${client.metadata.name} uses the host network: pod selectors do not select it, and implementations differ on traffic from a pod's own node (kube-router accepts it)`,
    );
  }
  const selected = new Set(
    [...ingress.selecting, ...egress.selecting].map((r) => `${r.namespace}/${r.name}`),
  );
  const ipBlockPolicies = (input.state.policies ?? []).filter(
    (p) =>
      selected.has(`${p.metadata.namespace ?? "default"}/${p.metadata.name}`) &&
      [
        ...(p.ingress ?? []).flatMap((r) => r.from ?? []),
        ...(p.egress ?? []).flatMap((r) => r.to ?? []),
      ].some((x) => x.ipBlock !== undefined),
  );
  if (ipBlockPolicies.length > 0) {
    notes.push(
      "ipBlock peers are matched against the pod address on the wire; the API leaves ipBlock for pod-to-pod traffic to the implementation (kube-router matches the pod IP)",
    );
  }
  return { decision, ingress, egress, notes };
}
