/**
 * Can the client resolve a name at all? A pod with dnsPolicy ClusterFirst sends its queries to the
 * cluster DNS Service (kube-system/kube-dns in k3s and kubeadm), i.e. after Service resolution to the
 * DNS pods on port 53 over UDP (and TCP for large answers). An egress policy that selects the client
 * without a rule for that traffic — the classic "default deny egress" — breaks every name lookup
 * before the connection is even tried.
 */

import { makeFinding } from "../findings/make-finding.ts";
import type { ClusterState, Pod } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import type { NetpolDecision, NetpolInput, NetpolProtocol, NetpolVerdict } from "./netpol-types.ts";
import { networkPolicyVerdict } from "./policy-verdict.ts";

/** One DNS server pod and the port/protocol the DNS Service sends to. */
export interface DnsTarget {
  readonly pod: Pod;
  readonly port: number;
  readonly protocol: NetpolProtocol;
}

/** The DNS Service's ready endpoints as pods, from the EndpointSlices of `namespace/name`. */
export function dnsTargets(cluster: ClusterState, service = "kube-system/kube-dns"): DnsTarget[] | string {
  const [ns, name] = service.split("/") as [string, string];
  const slices = cluster.endpointSlices.filter((s) => s.metadata.namespace === ns && s.serviceName === name);
  if (slices.length === 0) return `no EndpointSlice of ${service} in cluster/endpointslices.json`;
  const pods = new Map(cluster.pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  const out: DnsTarget[] = [];
  for (const s of slices) {
    for (const port of s.ports) {
      const protocol = (port.protocol ?? "TCP").toUpperCase();
      if (port.port === undefined || (protocol !== "UDP" && protocol !== "TCP")) continue;
      for (const ep of s.endpoints) {
        const pod = ep.targetPod === undefined ? undefined : pods.get(ep.targetPod);
        if (pod !== undefined && ep.conditions.ready !== false)
          out.push({ pod, port: port.port, protocol: protocol as NetpolProtocol });
      }
    }
  }
  return out.length > 0 ? out : `${service} has no ready endpoint backed by a pod in cluster/pods.json`;
}

export interface DnsVerdict {
  /** `not-applicable` when the client does not use cluster DNS (dnsPolicy Default, host network). */
  readonly decision: NetpolDecision | "not-applicable";
  readonly reason: string;
  /** Per protocol: whether at least one DNS pod is reachable. */
  readonly udp: NetpolDecision;
  readonly tcp: NetpolDecision;
  /** The verdict of each DNS pod/protocol tried. */
  readonly tried: readonly { readonly target: DnsTarget; readonly verdict: NetpolVerdict }[];
}

function combine(verdicts: readonly NetpolVerdict[]): NetpolDecision {
  if (verdicts.some((v) => v.decision === "allowed")) return "allowed";
  if (verdicts.some((v) => v.decision === "undecided")) return "undecided";
  return verdicts.length === 0 ? "undecided" : "denied";
}

/**
 * Whether policies let `client` query the cluster DNS.
 *
 * @example
 * ```ts
 * const t = dnsTargets(cluster);
 * if (typeof t !== "string") dnsVerdict(input, client, t).decision; // "denied" under default-deny egress
 * ```
 */
export function dnsVerdict(input: NetpolInput, client: Pod, targets: readonly DnsTarget[]): DnsVerdict {
  const policy = client.dnsPolicy ?? "ClusterFirst";
  if (
    policy === "Default" ||
    policy === "None" ||
    (client.hostNetwork === true && policy !== "ClusterFirstWithHostNet")
  ) {
    return {
      decision: "not-applicable",
      reason: `${client.metadata.namespace}/${client.metadata.name} does not query the cluster DNS (dnsPolicy ${policy}${client.hostNetwork === true ? ", host network" : ""})`,
      udp: "allowed",
      tcp: "allowed",
      tried: [],
    };
  }
  const tried = targets.map((target) => ({
    target,
    verdict: networkPolicyVerdict(input, {
      client,
      server: target.pod,
      port: target.port,
      protocol: target.protocol,
    }),
  }));
  const udp = combine(tried.filter((t) => t.target.protocol === "UDP").map((t) => t.verdict));
  const tcp = combine(tried.filter((t) => t.target.protocol === "TCP").map((t) => t.verdict));
  const who = `${client.metadata.namespace}/${client.metadata.name}`;
  const reason =
    udp === "allowed"
      ? `${who} may query the cluster DNS over UDP${tcp === "denied" ? " (TCP, used for large answers, is denied)" : ""}`
      : udp === "denied"
        ? `no DNS pod admits ${who} on 53/UDP: ${tried.find((t) => t.target.protocol === "UDP" && t.verdict.decision === "denied")?.verdict.egress.reason ?? ""}`
        : `whether ${who} may query the cluster DNS cannot be decided`;
  return { decision: udp, reason, udp, tcp, tried };
}

/** `netpol-dns-denied` when policies stop the client's DNS queries. */
export function dnsFindings(client: Pod, v: DnsVerdict): Finding[] {
  if (v.decision !== "denied") return [];
  const denied = v.tried.filter((t) => t.verdict.decision === "denied");
  const refs = [
    ...new Map(
      denied
        .flatMap((t) => [...t.verdict.egress.selecting, ...t.verdict.ingress.selecting])
        .map((p) => [`${p.namespace}/${p.name}`, p]),
    ).values(),
  ];
  const evidence = refs.map((p) => ({
    file: p.file ?? "cluster/networkpolicies.json",
    ...(p.line === undefined ? {} : { line: p.line }),
    text: `NetworkPolicy ${p.namespace}/${p.name}`,
  }));
  const pod = `${client.metadata.namespace}/${client.metadata.name}`;
  return [
    makeFinding(
      "netpol-dns-denied",
      { pod, policies: refs.map((p) => `${p.namespace}/${p.name}`) },
      { evidence, pod },
    ),
  ];
}
