/**
 * What kube-proxy (iptables mode) programs for each Service port, computed by the demo generator
 * straight from the API objects it builds (`kubectl get -o json` lists). Written from kube-proxy's
 * rules (/work/shared/reference/kube-proxy-rules.md §2, §3.2, §3.12, §3.13: proxier.go,
 * endpointslicecache.go, topology.go), independently of src/kube-proxy/, whose reconciliation the
 * demo's dumps are meant to test.
 */
import { demoEndpointChain, demoPortHash, demoServicePortName } from "./proxy-chain-names.ts";

type Json = Record<string, unknown>;

/** The protocols the iptables proxier programs. */
export type ProxiedProtocol = "tcp" | "udp" | "sctp";

/** One endpoint of a service port as kube-proxy's endpoint cache holds it. */
export interface ProxiedEndpoint {
  readonly ip: string;
  /** The EndpointSlice's (target) port. */
  readonly port: number;
  readonly nodeName?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** `KUBE-SEP-…`. */
  readonly sepChain: string;
}

/** One port of one proxied Service, with what the renderer needs to write its rules. */
export interface ProxiedPort {
  /** `ns/name[:port]`: the rule comment and the hash input. */
  readonly svcPortName: string;
  readonly protocol: ProxiedProtocol;
  readonly port: number;
  readonly clusterIP?: string;
  readonly nodePort?: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly internalLocal: boolean;
  readonly externalLocal: boolean;
  readonly sessionAffinity: boolean;
  readonly chains: { readonly SVC: string; readonly XLB: string; readonly FW: string };
  /** Every endpoint of the port, deduplicated by ip:port, in kube-proxy's string order of "ip:port". */
  readonly endpoints: readonly ProxiedEndpoint[];
  /** The Cluster-policy set: ready endpoints, else the serving-terminating ones. */
  readonly clusterEndpoints: readonly ProxiedEndpoint[];
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const objOf = (v: unknown): Json => (isObj(v) ? v : {});
const listOf = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObj) : []);
const strOf = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strsOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

function protocolOf(v: unknown): ProxiedProtocol | undefined {
  const p = (strOf(v) ?? "TCP").toLowerCase();
  return p === "tcp" || p === "udp" || p === "sctp" ? p : undefined;
}

/** kube-proxy ignores headless and ExternalName Services and those another proxy owns (§3.13). */
function isProxied(svc: Json): boolean {
  const spec = objOf(svc.spec);
  const clusterIP = strOf(spec.clusterIP);
  if (spec.type === "ExternalName" || clusterIP === undefined || clusterIP === "" || clusterIP === "None")
    return false;
  return objOf(objOf(svc.metadata).labels)["service.kubernetes.io/service-proxy-name"] === undefined;
}

/** The slices of each Service, keyed `namespace/service-name` (the slice's service-name label). */
function slicesByService(slices: readonly Json[]): Map<string, Json[]> {
  const out = new Map<string, Json[]>();
  for (const slice of slices) {
    const meta = objOf(slice.metadata);
    const service = strOf(objOf(meta.labels)["kubernetes.io/service-name"]);
    if (service === undefined) continue;
    const key = `${strOf(meta.namespace) ?? ""}/${service}`;
    const list = out.get(key);
    if (list === undefined) out.set(key, [slice]);
    else list.push(slice);
  }
  return out;
}

function endpointsOf(
  slices: readonly Json[],
  portName: string,
  protocol: ProxiedProtocol,
  svcPortName: string,
): ProxiedEndpoint[] {
  const byKey = new Map<string, ProxiedEndpoint>();
  for (const slice of slices) {
    if (slice.addressType !== "IPv4" && slice.addressType !== "IPv6") continue;
    const sp = listOf(slice.ports).find(
      (p) => (strOf(p.name) ?? "") === portName && protocolOf(p.protocol) === protocol,
    );
    const port = sp?.port;
    if (typeof port !== "number") continue;
    for (const ep of listOf(slice.endpoints)) {
      const ip = strsOf(ep.addresses)[0];
      if (ip === undefined || byKey.has(`${ip}:${port}`)) continue;
      const c = objOf(ep.conditions);
      // endpointslicecache.go: a nil `ready` or `serving` counts as true, a nil `terminating` as false.
      const nodeName = strOf(ep.nodeName);
      byKey.set(`${ip}:${port}`, {
        ip,
        port,
        ...(nodeName === undefined ? {} : { nodeName }),
        ready: c.ready !== false,
        serving: c.serving !== false,
        terminating: c.terminating === true,
        sepChain: demoEndpointChain(svcPortName, protocol, ip, port),
      });
    }
  }
  // kube-proxy writes endpoints sorted by the string "ip:port" (§0.6).
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ep]) => ep);
}

/** Ready endpoints, else serving-terminating ones (ProxyTerminatingEndpoints, §3.2). */
function usable(endpoints: readonly ProxiedEndpoint[]): ProxiedEndpoint[] {
  const ready = endpoints.filter((e) => e.ready);
  return ready.length > 0 ? ready : endpoints.filter((e) => e.serving && e.terminating);
}

/** The Local-policy set on `node`: its own usable endpoints. */
export function localEndpoints(endpoints: readonly ProxiedEndpoint[], node: string): ProxiedEndpoint[] {
  return usable(endpoints.filter((e) => e.nodeName === node));
}

/** The endpoints `node` sends ClusterIP traffic to (only its own with `internalTrafficPolicy: Local`). */
export function internalEndpoints(port: ProxiedPort, node: string): readonly ProxiedEndpoint[] {
  return port.internalLocal ? localEndpoints(port.endpoints, node) : port.clusterEndpoints;
}

function portsOf(svc: Json, slices: readonly Json[]): ProxiedPort[] {
  const meta = objOf(svc.metadata);
  const spec = objOf(svc.spec);
  const namespace = strOf(meta.namespace) ?? "default";
  const type = strOf(spec.type) ?? "ClusterIP";
  const external = type === "NodePort" || type === "LoadBalancer";
  const externalIPs = strsOf(spec.externalIPs);
  const loadBalancerIPs =
    type === "LoadBalancer"
      ? listOf(objOf(objOf(svc.status).loadBalancer).ingress)
          .map((i) => strOf(i.ip))
          .filter((ip): ip is string => ip !== undefined)
      : [];
  const out: ProxiedPort[] = [];
  for (const p of listOf(spec.ports)) {
    const protocol = protocolOf(p.protocol);
    if (protocol === undefined || typeof p.port !== "number") continue;
    const portName = strOf(p.name) ?? "";
    const svcPortName = demoServicePortName(namespace, strOf(meta.name) ?? "", portName);
    const hash = demoPortHash(svcPortName, protocol);
    const endpoints = endpointsOf(slices, portName, protocol, svcPortName);
    const nodePort = external && typeof p.nodePort === "number" && p.nodePort !== 0 ? p.nodePort : undefined;
    out.push({
      svcPortName,
      protocol,
      port: p.port,
      clusterIP: strOf(spec.clusterIP)!,
      ...(nodePort === undefined ? {} : { nodePort }),
      externalIPs,
      loadBalancerIPs,
      loadBalancerSourceRanges: strsOf(spec.loadBalancerSourceRanges),
      internalLocal: spec.internalTrafficPolicy === "Local",
      // externalTrafficPolicy applies only to traffic that arrives from outside (§3.12).
      externalLocal: spec.externalTrafficPolicy === "Local" && (external || externalIPs.length > 0),
      sessionAffinity: spec.sessionAffinity === "ClientIP",
      chains: { SVC: `KUBE-SVC-${hash}`, XLB: `KUBE-XLB-${hash}`, FW: `KUBE-FW-${hash}` },
      endpoints,
      clusterEndpoints: usable(endpoints),
    });
  }
  return out;
}

/**
 * Every proxied Service port of the API lists, in list order.
 *
 * @example
 * ```ts
 * proxiedPorts(api).find((p) => p.svcPortName === "default/kubernetes:https")?.chains.SVC;
 * // "KUBE-SVC-NPX46M4PTMTKRN6Y"
 * ```
 */
export function proxiedPorts(api: { readonly services: Json; readonly endpointslices: Json }): ProxiedPort[] {
  const slices = slicesByService(listOf(api.endpointslices.items));
  return listOf(api.services.items)
    .filter(isProxied)
    .flatMap((svc) => {
      const meta = objOf(svc.metadata);
      return portsOf(svc, slices.get(`${strOf(meta.namespace) ?? "default"}/${strOf(meta.name)}`) ?? []);
    });
}
