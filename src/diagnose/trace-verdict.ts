/**
 * The trace read against the cluster: a path forwarded to an address of the node's own pod CIDR
 * that no pod has ends neighbor-unreachable (nothing answers ARP on the bridge), and the words for
 * the node-dataplane step (what the client would see). Typed in, typed or words out; nothing here
 * reads a trace's words back.
 */
import { joinHostPort } from "../kube-proxy/chain-names.ts";
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import type { ClusterState, Pod } from "../model/cluster.ts";
import { type NeighborStep, type Trace, type TraceResult, traceResult } from "../model/trace.ts";
import { ipInCidr } from "../net/cidr.ts";
import { parseCidr } from "../net/ipv4.ts";
import { addressText } from "../trace/address-text.ts";

function podWithIp(cluster: ClusterState, ip: string): Pod | undefined {
  return cluster.pods.find((p) => p.podIP === ip || (p.podIPs?.includes(ip) ?? false));
}

/** The node's pod CIDR, when the API gives one. */
function podCidrOf(cluster: ClusterState, node: string): string | undefined {
  return cluster.nodes.find((n) => n.metadata.name === node)?.podCIDR;
}

/**
 * True for the network address and the first host address of a pod CIDR (the bridge's own address,
 * `cni0` on flannel and k3s): the node answers for it, a missing pod says nothing.
 */
function bridgeOrNetwork(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const net = c === undefined ? undefined : c.base;
  const a = parseCidr(ip)?.base;
  return net !== undefined && a !== undefined && (a === net || a === net + 1);
}

/** The neighbour step and disposition of a path forwarded to an address of the pod CIDR no pod has. */
function unreachable(t: Trace, cluster: ClusterState, node: string): Trace {
  if (t.disposition.kind !== "forwarded" || t.headers.dst.kind !== "exact") return t;
  const ip = t.headers.dst.ip;
  const cidr = podCidrOf(cluster, node);
  if (cidr === undefined || !ipInCidr(ip, cidr) || bridgeOrNetwork(ip, cidr)) return t;
  if (podWithIp(cluster, ip) !== undefined) return t;
  const step: NeighborStep = {
    kind: "neighbor",
    ip,
    state: "no-answer",
    reason: `no pod in the cluster has ${ip}, which is in ${node}'s own pod CIDR ${cidr}: nothing answers ARP on the bridge`,
  };
  const hops = t.hops.map((h, i) => (i === t.hops.length - 1 ? { ...h, steps: [...h.steps, step] } : h));
  return {
    ...t,
    disposition: { kind: "neighbor-unreachable", ip, clientError: "EHOSTUNREACH" },
    hops,
  };
}

/**
 * The trace with what the cluster adds: a path forwarded to an address of `node`'s own pod CIDR
 * (not the bridge's) that no pod has ends `neighbor-unreachable` with a `neighbor` step. Other
 * paths are unchanged; refining twice changes nothing more.
 *
 * @example
 * ```ts
 * refineTrace(trace, { cluster, node: "prod-agent1" }).traces[0].disposition.kind; // "neighbor-unreachable"
 * ```
 */
export function refineTrace(
  trace: TraceResult,
  context: { readonly cluster: ClusterState; readonly node: string },
): TraceResult {
  const traces = trace.traces.map((t) => unreachable(t, context.cluster, context.node));
  return traces.every((t, i) => t === trace.traces[i]) ? trace : traceResult(trace.flow, traces);
}

function pct(p: number): string {
  return `${Math.round(p * 1000) / 10}%`;
}

/** Why a delivered path's destination is not a ready endpoint of the Service. */
function notReadyWhy(
  t: Trace,
  ip: string,
  sp: ExpectedServicePort,
  cluster: ClusterState,
  node: string,
): string {
  const pod = podWithIp(cluster, ip);
  if (pod !== undefined)
    return `${ip} belongs to pod ${pod.metadata.namespace}/${pod.metadata.name}, not to ${sp.service}`;
  if (t.disposition.kind === "neighbor-unreachable") {
    return `no pod has ${ip}, which is in ${node}'s own pod CIDR ${podCidrOf(cluster, node)}: nothing answers ARP on the bridge and the client gets EHOSTUNREACH ("Host is unreachable")`;
  }
  return `no pod has ${ip}: the client typically gets EHOSTUNREACH ("Host is unreachable") or a timeout`;
}

function describePath(
  t: Trace,
  sp: ExpectedServicePort | undefined,
  cluster: ClusterState,
  node: string,
): string {
  const p = pct(t.probability);
  const d = t.disposition;
  switch (d.kind) {
    case "forwarded":
    case "delivered-locally":
    case "delivered":
    case "exits-cluster":
    case "neighbor-unreachable": {
      const word = d.kind === "delivered-locally" ? "local" : "forward";
      const dest = addressText(t.headers.dst);
      const ready = new Set((sp?.clusterEndpoints ?? []).map((e) => joinHostPort(e.ip, e.port)));
      if (sp === undefined || (ready.has(dest) && d.kind !== "neighbor-unreachable"))
        return `${p} ${word} to ${dest}${sp === undefined ? "" : " (a ready endpoint)"}`;
      const ip = t.headers.dst.kind === "exact" ? t.headers.dst.ip : dest;
      return `${p} ${word} to ${dest}, not a ready endpoint: ${notReadyWhy(t, ip, sp, cluster, node)}`;
    }
    case "rejected":
      return `${p} rejected (${d.rejectWith}): the client gets ${d.clientError ?? "no error and times out"}`;
    case "dropped":
      return `${p} dropped: the client times out`;
    case "no-route":
      return `${p} no route to ${addressText(d.dst)}: the client gets ${d.clientError ?? "a timeout"}`;
    case "undecided":
      return `${p} undecided: ${d.reason}`;
    default: {
      const never: never = d;
      throw new TypeError(`Unknown disposition ${JSON.stringify(never)}`);
    }
  }
}

/**
 * `trace on NODE: 100% forward to 10.42.2.17:8848, not a ready endpoint: no pod has 10.42.2.17, …`
 * (the trace is refined with {@linkcode refineTrace} first).
 */
export function describeTrace(
  trace: TraceResult,
  sp: ExpectedServicePort | undefined,
  cluster: ClusterState,
  node: string,
): string {
  const refined = refineTrace(trace, { cluster, node });
  return `trace on ${node}: ${refined.traces.map((t) => describePath(t, sp, cluster, node)).join("; ")}`;
}
