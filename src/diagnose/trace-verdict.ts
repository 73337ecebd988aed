/** Puts a trace result into words for the node-dataplane step (what the client would see). */

import { joinHostPort } from "../kube-proxy/chain-names.ts";
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { TraceResult } from "../model/trace.ts";

function inCidr(ip: string, cidr: string | undefined): boolean {
  if (cidr === undefined) return false;
  const [net, bits] = cidr.split("/");
  const n = Number(bits);
  const toInt = (a: string) => a.split(".").reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(net!) & mask) >>> 0;
}

/**
 * `trace: 100% forward to 10.42.2.17:8848 — not a ready endpoint; no pod has 10.42.2.17, …`.
 */
export function describeTrace(
  trace: TraceResult,
  sp: ExpectedServicePort | undefined,
  cluster: ClusterState,
  node: string,
): string {
  const ready = new Set((sp?.clusterEndpoints ?? []).map((e) => joinHostPort(e.ip, e.port)));
  const parts = trace.paths.map((p) => {
    const pct = `${Math.round(p.probability * 1000) / 10}%`;
    if (p.disposition === "forward" || p.disposition === "local") {
      const dest = p.destination;
      if (sp === undefined || ready.has(dest))
        return `${pct} ${p.disposition} to ${dest}${sp === undefined ? "" : " (a ready endpoint)"}`;
      const ip = dest.slice(0, dest.lastIndexOf(":"));
      const pod = cluster.pods.find((x) => x.podIP === ip);
      const podCIDR = cluster.nodes.find((n) => n.metadata.name === node)?.podCIDR;
      const why =
        pod !== undefined
          ? `${ip} belongs to pod ${pod.metadata.namespace}/${pod.metadata.name}, not to ${sp.service}`
          : inCidr(ip, podCIDR)
            ? `no pod has ${ip}, which is in ${node}'s own pod CIDR ${podCIDR}: nothing answers ARP on the bridge and the client gets EHOSTUNREACH ("Host is unreachable")`
            : `no pod has ${ip}: the client typically gets EHOSTUNREACH ("Host is unreachable") or a timeout`;
      return `${pct} ${p.disposition} to ${dest}, not a ready endpoint: ${why}`;
    }
    if (p.disposition === "reject")
      return `${pct} rejected (${p.rejectWith ?? "reject"}): the client gets ${p.clientError ?? "ECONNREFUSED"}`;
    if (p.disposition === "drop") return `${pct} dropped: the client times out`;
    return `${pct} unknown: ${p.reason ?? "the tracer could not decide"}`;
  });
  return `trace on ${node}: ${parts.join("; ")}`;
}
