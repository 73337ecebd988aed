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
} from "./json-checks.ts";
import { objectMeta } from "./object-meta.ts";

const SERVICE_TYPES = new Set(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]);

function servicePort(v: unknown, path: string): ServicePort {
  const p = obj(v, path);
  const name = optStr(p.name, `${path}.name`);
  const tp = p.targetPort;
  let targetPort: number | string | undefined;
  if (typeof tp === "string") targetPort = /^\d+$/.test(tp) ? Number(tp) : tp;
  else if (tp !== undefined && tp !== null) targetPort = port(tp, `${path}.targetPort`);
  const nodePort = optPort(p.nodePort, `${path}.nodePort`);
  return {
    protocol: optStr(p.protocol, `${path}.protocol`) ?? "TCP",
    port: port(p.port, `${path}.port`),
    ...(name === undefined || name === "" ? {} : { name }),
    ...(targetPort === undefined ? {} : { targetPort }),
    ...(nodePort === undefined ? {} : { nodePort }),
  };
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
  const selector = strMap(spec.selector, "spec.selector");
  const etp = policy(spec.externalTrafficPolicy, "spec.externalTrafficPolicy");
  const itp = policy(spec.internalTrafficPolicy, "spec.internalTrafficPolicy");
  const affinity = optStr(spec.sessionAffinity, "spec.sessionAffinity");
  const externalName = optStr(spec.externalName, "spec.externalName");
  const hc = optPort(spec.healthCheckNodePort, "spec.healthCheckNodePort");
  return {
    metadata: objectMeta(item, true),
    type: type as Service["type"],
    ports: arr(spec.ports, "spec.ports").map((p, i) => servicePort(p, `spec.ports[${i}]`)),
    clusterIPs: strList(spec.clusterIPs, "spec.clusterIPs"),
    externalIPs: strList(spec.externalIPs, "spec.externalIPs"),
    loadBalancerSourceRanges: strList(spec.loadBalancerSourceRanges, "spec.loadBalancerSourceRanges"),
    loadBalancerIPs: lbIPs,
    ...(clusterIP === undefined ? {} : { clusterIP }),
    ...(selector === undefined ? {} : { selector }),
    ...(etp === undefined ? {} : { externalTrafficPolicy: etp }),
    ...(itp === undefined ? {} : { internalTrafficPolicy: itp }),
    ...(affinity === undefined ? {} : { sessionAffinity: affinity }),
    ...(externalName === undefined ? {} : { externalName }),
    ...(hc === undefined ? {} : { healthCheckNodePort: hc }),
  };
}
