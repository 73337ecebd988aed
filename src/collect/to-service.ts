/** Services of a bundle's `cluster/services.json`, checked and converted to the cluster model. */
import type { Service, ServicePort } from "../model/cluster.ts";
import {
  arr,
  describe,
  ItemError,
  type Json,
  obj,
  optObj,
  optPort,
  optStr,
  port,
  strList,
  strMap,
  type Writable,
} from "./json-checks.ts";
import { objectMeta } from "./object-meta.ts";
import { keyPart, SharedLists } from "./shared-lists.ts";

const SERVICE_TYPES = new Set(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]);

function servicePort(v: unknown, path: string): ServicePort {
  const p = obj(v, path);
  const name = optStr(p.name, path, ".name");
  const tp = p.targetPort;
  let targetPort: number | string | undefined;
  if (typeof tp === "string") targetPort = /^\d+$/.test(tp) ? Number(tp) : tp;
  else if (tp !== undefined && tp !== null) targetPort = port(tp, path, ".targetPort");
  const nodePort = optPort(p.nodePort, path, ".nodePort");
  const out = {} as Writable<ServicePort>;
  out.protocol = optStr(p.protocol, path, ".protocol") ?? "TCP";
  out.port = port(p.port, path, ".port");
  if (name !== undefined && name !== "") out.name = name;
  if (targetPort !== undefined) out.targetPort = targetPort;
  if (nodePort !== undefined) out.nodePort = nodePort;
  return out;
}

const PORT_LISTS = new SharedLists<ServicePort>((p) =>
  [p.protocol, p.port, p.name, p.targetPort, p.nodePort]
    .map((v) => `${typeof v}:${keyPart(v)}`)
    .join("\u0000"),
);

/** No entries: one shared array, as most Services have no external IPs or source ranges. */
const NONE: readonly string[] = Object.freeze([]);

function list(v: unknown, path: string): readonly string[] {
  const l = strList(v, path);
  return l.length === 0 ? NONE : l;
}

function policy(v: unknown, path: string): "Cluster" | "Local" | undefined {
  const s = optStr(v, path);
  if (s === undefined) return undefined;
  if (s === "Local" || s === "Cluster") return s;
  throw new ItemError(`${path}: expected "Cluster" or "Local", got ${describe(s)}`);
}

/**
 * One item of `kubectl get services -o json` as a {@linkcode Service}: type, ports, IPs, selector
 * and traffic policies.
 *
 * @throws {ItemError} When a field has the wrong type or the type or a policy is not one Kubernetes knows.
 */
export function toService(item: Json): Service {
  const spec = obj(item.spec, "spec");
  const type = optStr(spec.type, "spec.type") ?? "ClusterIP";
  if (!SERVICE_TYPES.has(type))
    throw new ItemError(
      `spec.type: expected ClusterIP, NodePort, LoadBalancer or ExternalName, got ${describe(type)}`,
    );
  const status = optObj(item.status, "status") ?? {};
  const lb = optObj(status.loadBalancer, "status.loadBalancer") ?? {};
  const lbIPs = arr(lb.ingress, "status.loadBalancer.ingress")
    .map((x, i) =>
      optStr(obj(x, `status.loadBalancer.ingress[${i}]`).ip, `status.loadBalancer.ingress[${i}].ip`),
    )
    .filter((x): x is string => x !== undefined);
  const clusterIP = optStr(spec.clusterIP, "spec.clusterIP");
  const clusterIPs = list(spec.clusterIPs, "spec.clusterIPs");
  // The same address twice in the list file: keep one string.
  if (clusterIPs[0] === clusterIP && clusterIP !== undefined) (clusterIPs as string[])[0] = clusterIP;
  const selector = strMap(spec.selector, "spec.selector");
  const etp = policy(spec.externalTrafficPolicy, "spec.externalTrafficPolicy");
  const itp = policy(spec.internalTrafficPolicy, "spec.internalTrafficPolicy");
  const affinity = optStr(spec.sessionAffinity, "spec.sessionAffinity");
  const externalName = optStr(spec.externalName, "spec.externalName");
  const hc = optPort(spec.healthCheckNodePort, "spec.healthCheckNodePort");
  const out: Writable<Service> = {
    metadata: objectMeta(item, true, { uid: false }),
    type: type as Service["type"],
    ports: PORT_LISTS.of(arr(spec.ports, "spec.ports").map((p, i) => servicePort(p, `spec.ports[${i}]`))),
    clusterIPs,
    externalIPs: list(spec.externalIPs, "spec.externalIPs"),
    loadBalancerSourceRanges: list(spec.loadBalancerSourceRanges, "spec.loadBalancerSourceRanges"),
    loadBalancerIPs: lbIPs.length === 0 ? NONE : lbIPs,
  };
  if (clusterIP !== undefined) out.clusterIP = clusterIP;
  if (selector !== undefined) out.selector = selector;
  if (etp !== undefined) out.externalTrafficPolicy = etp;
  if (itp !== undefined) out.internalTrafficPolicy = itp;
  if (affinity !== undefined) out.sessionAffinity = affinity;
  if (externalName !== undefined) out.externalName = externalName;
  if (hc !== undefined) out.healthCheckNodePort = hc;
  return out;
}
