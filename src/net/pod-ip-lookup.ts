/**
 * "Is this IP a pod IP, which pod, which Service fronts it?" — shared by the env/ConfigMap check
 * (config-pod-ip) and the app-config check of `--jar`.
 */
import type { ClusterState, ObjectSource, Pod } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";

/** What an IP belongs to in the cluster. */
export interface PodIpOwner {
  /** `namespace/name` of the pod. */
  readonly pod: string;
  readonly node?: string;
  readonly podSource?: ObjectSource;
  /** Services (`namespace/name`) with this pod IP among their endpoints, with the port names. */
  readonly services: readonly { readonly service: string; readonly ports: readonly number[] }[];
}

/** A reusable lookup over one cluster's pods and EndpointSlices. */
export interface PodIpLookup {
  /** The non-hostNetwork pod that has `ip`, with the Services that front it; undefined otherwise. */
  lookup(ip: string): PodIpOwner | undefined;
}

/**
 * Builds the lookup once (linear in pods + endpoints; only pod IPs are indexed).
 *
 * @example
 * ```ts
 * podIpLookup(cluster).lookup("10.42.1.23")?.services[0]?.service; // "eopx/eopx-register"
 * ```
 */
export function podIpLookup(cluster: ClusterState): PodIpLookup {
  const pods = new Map<string, Pod>();
  for (const p of cluster.pods) {
    // hostNetwork pods share the node's IP: that is not a pod IP worth pinning warnings.
    if (p.hostNetwork) continue;
    for (const ip of [p.podIP, ...(p.podIPs ?? [])]) if (ip !== undefined && ip !== "") pods.set(ip, p);
  }
  const fronts = new Map<string, Map<string, Set<number>>>();
  for (const s of cluster.endpointSlices) {
    if (s.serviceName === undefined) continue;
    for (const ep of s.endpoints) {
      for (const ip of ep.addresses) {
        // Only a pod's IP is ever looked up: a cluster of 80,000 Services need not index the rest.
        if (!pods.has(ip)) continue;
        const svc = `${s.metadata.namespace}/${s.serviceName}`;
        let m = fronts.get(ip);
        if (m === undefined) fronts.set(ip, (m = new Map()));
        let ports = m.get(svc);
        if (ports === undefined) m.set(svc, (ports = new Set()));
        for (const p of s.ports) if (p.port !== undefined) ports.add(p.port);
      }
    }
  }
  return {
    lookup(ip: string): PodIpOwner | undefined {
      const pod = pods.get(ip);
      if (pod === undefined) return undefined;
      const services = [...(fronts.get(ip) ?? new Map<string, Set<number>>())].map(([service, ports]) => ({
        service,
        ports: [...ports].sort((a, b) => a - b),
      }));
      return {
        pod: objectKey(pod.metadata),
        ...(pod.nodeName === undefined ? {} : { node: pod.nodeName }),
        ...(pod.source === undefined ? {} : { podSource: pod.source }),
        services,
      };
    },
  };
}

const IPV4 = /(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])/g;

/** Every IPv4 literal in a text (config values, URLs, `host:port` strings). */
export function ipv4Literals(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IPV4)) {
    if (m[1]!.split(".").every((o) => Number(o) <= 255)) out.push(m[1]!);
  }
  return out;
}
