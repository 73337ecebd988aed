/**
 * Resolves the `--to` host as the client pod would: IP literals by what has them (a Service, a pod, a
 * node, a cluster range nobody holds, or nothing of the cluster), names through the namespace's DNS
 * search path in the cluster domain. A name the cluster DNS does not own is an outside destination.
 */
import type { ClusterState, Node, Pod, Service } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { type ClusterRanges, type IpPlace, placeOf } from "./cluster-ranges.ts";
import { similarServices } from "./suggest-service.ts";

/** How the host resolved. */
export type Resolution =
  | {
      readonly kind: "service";
      readonly service: Service;
      readonly name: string;
      readonly how: string;
      /** False for a ClusterIP literal (no lookup). */
      readonly viaDns: boolean;
    }
  | { readonly kind: "external-name"; readonly service: Service; readonly how: string }
  | { readonly kind: "pod"; readonly pod: Pod; readonly how: string }
  | { readonly kind: "node"; readonly node: Node; readonly how: string }
  | {
      /** A name in the cluster domain that no Service has: CoreDNS answers NXDOMAIN. */
      readonly kind: "no-service";
      readonly tried: readonly string[];
      readonly suggestions: readonly string[];
      readonly how: string;
    }
  | {
      readonly kind: "outside-name";
      readonly tried: readonly string[];
      readonly suggestion?: string;
      readonly how: string;
    }
  | { readonly kind: "outside-ip"; readonly how: string }
  | {
      /** In a proven cluster range, but nothing has it. */
      readonly kind: "unassigned";
      readonly place: Exclude<IpPlace, { kind: "outside" } | { kind: "assumed" }>;
      readonly how: string;
    }
  | {
      readonly kind: "assumed-range";
      readonly place: Extract<IpPlace, { kind: "assumed" }>;
      readonly how: string;
    };

function resolveIp(cluster: ClusterState, ranges: ClusterRanges, host: string): Resolution {
  const svc = cluster.services.find((s) => s.clusterIP === host || s.clusterIPs?.includes(host));
  if (svc !== undefined)
    return {
      kind: "service",
      service: svc,
      name: host,
      viaDns: false,
      how: `${host} is the ClusterIP of Service ${objectKey(svc.metadata)} (no DNS lookup)`,
    };
  const pod = cluster.pods.find((p) => !p.hostNetwork && (p.podIP === host || p.podIPs?.includes(host)));
  if (pod !== undefined)
    return {
      kind: "pod",
      pod,
      how: `${host} is the IP of pod ${objectKey(pod.metadata)} (no DNS lookup, no Service)`,
    };
  const node = cluster.nodes.find((n) => n.addresses.some((a) => a.address === host));
  if (node !== undefined)
    return { kind: "node", node, how: `${host} is an address of node ${node.metadata.name} (no DNS lookup)` };
  const place = placeOf(host, ranges);
  switch (place.kind) {
    case "outside":
      return { kind: "outside-ip", how: `${host} is not a ClusterIP, pod IP or node address of the bundle` };
    case "assumed":
      return {
        kind: "assumed-range",
        place,
        how: `${host} is no ClusterIP or pod IP of the bundle; it lies in ${place.range.cidr}, ${place.range.how} ${place.role} range`,
      };
    default:
      return { kind: "unassigned", place, how: `${host} is no ClusterIP or pod IP of the bundle` };
  }
}

/**
 * Resolves `host` as `client` would: IP literals first, then the search path
 * `NS.svc.DOMAIN svc.DOMAIN DOMAIN`, or the name itself when it is fully qualified.
 */
export function resolveHost(
  cluster: ClusterState,
  client: Pod,
  options: { readonly host: string; readonly domain: string; readonly ranges: ClusterRanges },
): Resolution {
  const { host, domain, ranges } = options;
  if (parseIpv4(host) !== undefined) return resolveIp(cluster, ranges, host);
  const ns = client.metadata.namespace ?? "default";
  const fq = host === domain || host.endsWith(`.${domain}`);
  const tried = fq ? [host] : [`${host}.${ns}.svc.${domain}`, `${host}.svc.${domain}`, `${host}.${domain}`];
  const svcName = new RegExp(`^([a-z0-9-]+)\\.([a-z0-9-]+)\\.svc\\.${domain.replace(/\./g, "\\.")}$`);
  for (const name of tried) {
    const m = svcName.exec(name);
    if (m === null) continue;
    const svc = cluster.services.find((s) => s.metadata.name === m[1] && s.metadata.namespace === m[2]);
    if (svc === undefined) continue;
    const how = fq
      ? `${host} is fully qualified`
      : `"${host}" from namespace ${ns} resolves through the search path to ${name}`;
    if (svc.type === "ExternalName")
      return {
        kind: "external-name",
        service: svc,
        how: `${how}: ExternalName Service ${objectKey(svc.metadata)}, a CNAME to ${svc.externalName ?? "?"}`,
      };
    return { kind: "service", service: svc, name, how, viaDns: true };
  }
  const suggestions = similarServices(cluster.services, fq ? host.slice(0, -domain.length - 1) : host, ns);
  if (fq) return { kind: "no-service", tried, suggestions, how: `"${host}" matches no Service` };
  return {
    kind: "outside-name",
    tried,
    ...(suggestions[0] === undefined ? {} : { suggestion: suggestions[0] }),
    how: `"${host}" from namespace ${ns} matches no Service (tried ${tried.join(", ")})`,
  };
}
