/**
 * What kube-proxy (iptables mode) must have written for each Service port, computed from the API
 * objects alone: entry addresses, chain names (current and pre-1.19 naming) and endpoint sets.
 * Source of the rules: kube-proxy's proxier.go and CategorizeEndpoints (pkg/proxy/topology.go).
 */
import type {
  ClusterState,
  EndpointHints,
  EndpointSlice,
  ObjectSource,
  Service,
  ServicePort,
} from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import { endpointChain, portProtoHash, type ServiceChainKind, servicePortName } from "./chain-names.ts";

/** Protocols kube-proxy's iptables proxier programs. */
export type L4Protocol = "tcp" | "udp" | "sctp";

/** One endpoint (address + target port) of a service port, as the API describes it. */
export interface ExpectedEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly nodeName?: string;
  readonly zone?: string;
  /** Topology hints: zones (and, since v1.33, nodes) that should use this endpoint. */
  readonly hints?: EndpointHints;
  /** `namespace/name` of the backing Pod, when the slice names it. */
  readonly pod?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** `KUBE-SEP-…` (current naming) and the pre-1.19 name (differs only for unnamed ports). */
  readonly sepChain: string;
  readonly legacySepChain: string;
  readonly slice?: ObjectSource;
}

/** One port of one Service, with everything kube-proxy derives from it. */
export interface ExpectedServicePort {
  /** `namespace/name`. */
  readonly service: string;
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  /** kube-proxy's ServicePortName string (v1.19+), also the rule comment prefix. */
  readonly svcPortName: string;
  readonly protocol: L4Protocol;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly clusterIP?: string;
  readonly nodePort?: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly internalLocal: boolean;
  readonly externalLocal: boolean;
  readonly sessionAffinity: boolean;
  /** Current chain names by kind. */
  readonly chains: Readonly<Record<ServiceChainKind, string>>;
  /** Pre-1.19 chain names (equal to `chains` for named ports). */
  readonly legacyChains: Readonly<Record<ServiceChainKind, string>>;
  /** Every endpoint the slices list for this port, deduplicated by ip:port, sorted as kube-proxy sorts. */
  readonly endpoints: readonly ExpectedEndpoint[];
  /** The endpoints of the Cluster-policy chain: ready ones, else serving-terminating ones. */
  readonly clusterEndpoints: readonly ExpectedEndpoint[];
  readonly source?: ObjectSource;
}

const KINDS: readonly ServiceChainKind[] = ["SVC", "SVL", "EXT", "FW", "XLB"];

function chainsFor(spn: string, protocol: string): Record<ServiceChainKind, string> {
  // Every kind shares one hash: compute it once.
  const hash = portProtoHash(spn, protocol);
  const out = {} as Record<ServiceChainKind, string>;
  for (const k of KINDS) out[k] = `KUBE-${k}-${hash}`;
  return out;
}

/** Whether kube-proxy programs this Service at all (§3.13 of the reference). */
export function isProxied(svc: Service): boolean {
  if (svc.type === "ExternalName") return false;
  if (svc.clusterIP === undefined || svc.clusterIP === "" || svc.clusterIP === "None") return false;
  if (svc.metadata.labels?.["service.kubernetes.io/service-proxy-name"] !== undefined) return false;
  return true;
}

function toProtocol(p: string | undefined): L4Protocol | undefined {
  const v = (p ?? "TCP").toLowerCase();
  return v === "tcp" || v === "udp" || v === "sctp" ? v : undefined;
}

/** Groups slices by `namespace/serviceName` once, so large clusters stay linear. */
export function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const map = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    if (s.serviceName === undefined) continue;
    const key = `${s.metadata.namespace ?? ""}/${s.serviceName}`;
    const list = map.get(key);
    if (list === undefined) map.set(key, [s]);
    else list.push(s);
  }
  return map;
}

function endpointsFor(
  svc: Service,
  port: ServicePort,
  protocol: L4Protocol,
  spn: string,
  legacySpn: string,
  slices: readonly EndpointSlice[],
): ExpectedEndpoint[] {
  const seen = new Map<string, ExpectedEndpoint>();
  const wantName = port.name ?? "";
  for (const slice of slices) {
    if (slice.addressType !== "IPv4" && slice.addressType !== "IPv6") continue;
    const sp = slice.ports.find((p) => (p.name ?? "") === wantName && toProtocol(p.protocol) === protocol);
    if (sp?.port === undefined) continue;
    for (const ep of slice.endpoints) {
      const ip = ep.addresses[0];
      if (ip === undefined) continue;
      const key = `${ip}:${sp.port}`;
      if (seen.has(key)) continue;
      // The API (and kube-proxy's endpointslicecache) reads a nil `ready` and a nil `serving` as
      // true, a nil `terminating` as false. v1beta1 slices of v1.17-v1.19 carry only `ready`.
      const ready = ep.conditions.ready !== false;
      const serving = ep.conditions.serving !== false;
      seen.set(key, {
        ip,
        port: sp.port,
        ready,
        serving,
        terminating: ep.conditions.terminating === true,
        sepChain: endpointChain(spn, protocol, ip, sp.port),
        legacySepChain: legacySpn === spn ? "" : endpointChain(legacySpn, protocol, ip, sp.port),
        ...(ep.nodeName === undefined ? {} : { nodeName: ep.nodeName }),
        ...(ep.zone === undefined ? {} : { zone: ep.zone }),
        ...(ep.hints === undefined ? {} : { hints: ep.hints }),
        ...(ep.targetPod === undefined ? {} : { pod: ep.targetPod }),
        ...(slice.source === undefined ? {} : { slice: slice.source }),
      });
    }
  }
  void svc;
  // kube-proxy writes endpoints in string-sorted "ip:port" order.
  return [...seen.values()].sort((a, b) => {
    const ka = `${a.ip}:${a.port}`;
    const kb = `${b.ip}:${b.port}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The Cluster-policy endpoint set: ready endpoints, else serving and terminating ones. */
export function clusterSet(endpoints: readonly ExpectedEndpoint[]): ExpectedEndpoint[] {
  const ready = endpoints.filter((e) => e.ready);
  return ready.length > 0 ? ready : endpoints.filter((e) => e.serving && e.terminating);
}

/** The Local-policy endpoint set on `node`: ready local endpoints, else serving-terminating local ones. */
export function localSet(endpoints: readonly ExpectedEndpoint[], node: string): ExpectedEndpoint[] {
  const local = endpoints.filter((e) => e.nodeName === node);
  const ready = local.filter((e) => e.ready);
  return ready.length > 0 ? ready : local.filter((e) => e.serving && e.terminating);
}

/**
 * The expected state of each port of one Service, given the slices that name it (see
 * {@linkcode slicesByService}); empty when kube-proxy does not program the Service.
 */
export function servicePortsOf(svc: Service, slices: readonly EndpointSlice[]): ExpectedServicePort[] {
  if (!isProxied(svc)) return [];
  const ns = svc.metadata.namespace ?? "default";
  const out: ExpectedServicePort[] = [];
  for (const port of svc.ports) {
    const protocol = toProtocol(port.protocol);
    if (protocol === undefined) continue;
    const spn = servicePortName(ns, svc.metadata.name, port.name);
    const legacySpn = servicePortName(ns, svc.metadata.name, port.name, true);
    const endpoints = endpointsFor(svc, port, protocol, spn, legacySpn, slices);
    const chains = chainsFor(spn, protocol);
    const nodePort = svc.type === "NodePort" || svc.type === "LoadBalancer" ? port.nodePort : undefined;
    out.push({
      service: objectKey({ name: svc.metadata.name, namespace: ns }),
      namespace: ns,
      name: svc.metadata.name,
      portName: port.name ?? "",
      svcPortName: spn,
      protocol,
      port: port.port,
      ...(port.targetPort === undefined ? {} : { targetPort: port.targetPort }),
      ...(svc.clusterIP === undefined ? {} : { clusterIP: svc.clusterIP }),
      ...(nodePort === undefined || nodePort === 0 ? {} : { nodePort }),
      externalIPs: svc.externalIPs ?? [],
      loadBalancerIPs: svc.type === "LoadBalancer" ? (svc.loadBalancerIPs ?? []) : [],
      loadBalancerSourceRanges: svc.loadBalancerSourceRanges ?? [],
      internalLocal: svc.internalTrafficPolicy === "Local",
      externalLocal:
        svc.externalTrafficPolicy === "Local" &&
        (svc.type === "NodePort" || svc.type === "LoadBalancer" || (svc.externalIPs?.length ?? 0) > 0),
      sessionAffinity: svc.sessionAffinity === "ClientIP",
      chains,
      legacyChains: legacySpn === spn ? chains : chainsFor(legacySpn, protocol),
      endpoints,
      clusterEndpoints: clusterSet(endpoints),
      ...(svc.source === undefined ? {} : { source: svc.source }),
    });
  }
  return out;
}

/**
 * Every proxied Service port of the cluster with its expected kube-proxy state. A question about
 * a few Services asks {@linkcode ExpectedPorts} instead (expected-ports.ts).
 *
 * @example
 * ```ts
 * const ports = expectedServicePorts(cluster);
 * ports.find((p) => p.svcPortName === "default/kubernetes:https")?.chains.SVC; // "KUBE-SVC-NPX46M4PTMTKRN6Y"
 * ```
 */
export function expectedServicePorts(cluster: ClusterState): ExpectedServicePort[] {
  const bySvc = slicesByService(cluster.endpointSlices);
  const out: ExpectedServicePort[] = [];
  for (const svc of cluster.services) {
    const ns = svc.metadata.namespace ?? "default";
    out.push(...servicePortsOf(svc, bySvc.get(`${ns}/${svc.metadata.name}`) ?? []));
  }
  return out;
}

/**
 * The endpoints a node's kube-proxy sends ClusterIP traffic to: the cluster set, or with
 * `internalTrafficPolicy: Local` only the node's own.
 */
export function internalEndpointsOn(sp: ExpectedServicePort, node: string): readonly ExpectedEndpoint[] {
  return sp.internalLocal ? localSet(sp.endpoints, node) : sp.clusterEndpoints;
}
