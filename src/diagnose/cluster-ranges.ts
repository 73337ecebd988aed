/**
 * The cluster's Service and pod address ranges, from evidence: the smallest network that covers every
 * ClusterIP (it lies inside the real Service CIDR, whatever that is), the nodes' `spec.podCIDR`s and
 * the network that covers them and every pod IP. Distribution defaults (k3s/RKE2 10.42.0.0/16 and
 * 10.43.0.0/16, kubeadm's 10.96.0.0/12) are used only as a stated assumption, and only when they hold
 * what the evidence shows.
 */
import { nodeKindOf } from "../findings/kube-proxy-restart.ts";
import type { ClusterState } from "../model/cluster.ts";
import { cidrWithin, coveringCidr, ipInCidr } from "../net/cidr.ts";

/** A network and how netdoctor knows it. */
export interface AddressRange {
  readonly cidr: string;
  /** `covers every ClusterIP of the bundle`, `the k3s default, assumed`. */
  readonly how: string;
}

export interface ClusterRanges {
  /** Proven part of the Service range. */
  readonly service?: AddressRange;
  /** Proven part of the pod range. */
  readonly pod?: AddressRange;
  readonly nodePodCidrs: readonly { readonly node: string; readonly cidr: string }[];
  /** Distribution defaults that agree with the evidence, with the role they would have. */
  readonly assumed: readonly (AddressRange & { readonly role: "service" | "pod" })[];
}

/** Where an IP lies. */
export type IpPlace =
  | { readonly kind: "node-pod-cidr"; readonly node: string; readonly cidr: string }
  | { readonly kind: "pod-range" | "service-range"; readonly range: AddressRange }
  | { readonly kind: "assumed"; readonly role: "service" | "pod"; readonly range: AddressRange }
  | { readonly kind: "outside" };

const DEFAULTS = {
  k3s: { service: "10.43.0.0/16", pod: "10.42.0.0/16" },
  rke2: { service: "10.43.0.0/16", pod: "10.42.0.0/16" },
  kubeadm: { service: "10.96.0.0/12", pod: undefined },
} as const;

/** Reads the ranges from the API objects. */
export function clusterRanges(cluster: ClusterState): ClusterRanges {
  // One pass without per-Service arrays (80,000 Services); clusterIP is clusterIPs[0] when both are set.
  const clusterIps: string[] = [];
  for (const s of cluster.services) {
    if (s.clusterIP !== undefined && s.clusterIPs?.[0] !== s.clusterIP) clusterIps.push(s.clusterIP);
    for (const ip of s.clusterIPs ?? []) clusterIps.push(ip);
  }
  const nodePodCidrs = cluster.nodes.flatMap((n) =>
    n.podCIDR === undefined ? [] : [{ node: n.metadata.name, cidr: n.podCIDR }],
  );
  const podIps = cluster.pods
    .filter((p) => !p.hostNetwork)
    .flatMap((p) => [p.podIP ?? "", ...(p.podIPs ?? [])]);
  const serviceCidr = coveringCidr(clusterIps);
  const podCidr = coveringCidr([...nodePodCidrs.map((n) => n.cidr), ...podIps]);
  const service =
    serviceCidr === undefined
      ? undefined
      : { cidr: serviceCidr, how: "covers every ClusterIP of the bundle" };
  const pod =
    podCidr === undefined
      ? undefined
      : { cidr: podCidr, how: "covers the nodes' pod CIDRs and every pod IP of the bundle" };
  const kinds = new Set(cluster.nodes.map((n) => nodeKindOf(n).distribution));
  const assumed: (AddressRange & { role: "service" | "pod" })[] = [];
  for (const kind of ["k3s", "rke2", "kubeadm"] as const) {
    if (!kinds.has(kind)) continue;
    const d = DEFAULTS[kind];
    const how = `the ${kind === "rke2" ? "RKE2" : kind} default`;
    if (service === undefined || cidrWithin(service.cidr, d.service))
      assumed.push({ role: "service", cidr: d.service, how });
    if (d.pod !== undefined && (pod === undefined || cidrWithin(pod.cidr, d.pod)))
      assumed.push({ role: "pod", cidr: d.pod, how });
  }
  return {
    ...(service === undefined ? {} : { service }),
    ...(pod === undefined ? {} : { pod }),
    nodePodCidrs,
    assumed,
  };
}

/** Where `ip` lies: a node's pod CIDR, the proven pod or Service range, only an assumed range, or outside. */
export function placeOf(ip: string, ranges: ClusterRanges): IpPlace {
  const node = ranges.nodePodCidrs.find((n) => ipInCidr(ip, n.cidr));
  if (node !== undefined) return { kind: "node-pod-cidr", node: node.node, cidr: node.cidr };
  if (ranges.service !== undefined && ipInCidr(ip, ranges.service.cidr))
    return { kind: "service-range", range: ranges.service };
  if (ranges.pod !== undefined && ipInCidr(ip, ranges.pod.cidr))
    return { kind: "pod-range", range: ranges.pod };
  const assumed = ranges.assumed.find((a) => ipInCidr(ip, a.cidr));
  if (assumed !== undefined) return { kind: "assumed", role: assumed.role, range: assumed };
  return { kind: "outside" };
}

/**
 * `Service range 10.43.0.0/16 and pod range 10.42.0.0/22 (from the bundle's addresses) and the k3s
 * defaults 10.43.0.0/16, 10.42.0.0/16`.
 */
export function describeRanges(ranges: ClusterRanges): string {
  const parts = [
    ranges.service === undefined ? undefined : `Service range ${ranges.service.cidr}`,
    ranges.pod === undefined ? undefined : `pod range ${ranges.pod.cidr}`,
  ].filter((x) => x !== undefined);
  const proven = parts.length === 0 ? undefined : `${parts.join(" and ")} (from the bundle's addresses)`;
  const byDefault = new Map<string, string[]>();
  for (const a of ranges.assumed) byDefault.set(a.how, [...(byDefault.get(a.how) ?? []), a.cidr]);
  const assumed = [...byDefault].map(([how, cidrs]) => `${how}s ${cidrs.join(", ")}`);
  const all = [...(proven === undefined ? [] : [proven]), ...assumed];
  return all.length === 0 ? "Service and pod ranges (none known from the bundle)" : all.join(" and ");
}
