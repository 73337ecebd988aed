/**
 * What kube-proxy's IPVS proxier (pkg/proxy/ipvs/proxier.go, syncProxyRules) programs on a node for
 * the API's Services, computed from the same expected state as the iptables mode
 * (kube-proxy/expected-state.ts): one virtual server per ClusterIP:port, externalIP:port,
 * LoadBalancer IP:port and node IP:nodePort; real servers are the endpoints (masq, weight 1): the
 * cluster set, or the node's own endpoints for `internalTrafficPolicy: Local` (ClusterIP) and
 * `externalTrafficPolicy: Local` (node ports, external and LB IPs). ClientIP affinity makes the
 * virtual server persistent (10800 s unless the Service says otherwise).
 */

import { virtualServiceKey } from "../../ipvs/ipvs-model.ts";
import type { ClusterState, ObjectSource } from "../../model/cluster.ts";
import {
  type ExpectedEndpoint,
  type ExpectedServicePort,
  expectedServicePorts,
  internalEndpointsOn,
  localSet,
} from "../expected-state.ts";

/** The role of a virtual server, as the proxier creates them. */
export type VirtualServerKind = "cluster-ip" | "external-ip" | "load-balancer" | "node-port";

export interface ExpectedVirtualServer {
  /** `tcp 10.43.0.10:53` (see ipvs/ipvs-model.ts virtualServiceKey). */
  readonly key: string;
  readonly kind: VirtualServerKind;
  readonly address: string;
  readonly port: number;
  readonly protocol: "tcp" | "udp" | "sctp";
  readonly servicePort: ExpectedServicePort;
  /** Real servers kube-proxy keeps at weight 1, keyed `ip:port`. */
  readonly realServers: ReadonlyMap<string, ExpectedEndpoint>;
  readonly persistent: boolean;
  readonly source?: ObjectSource;
}

const rsKey = (e: ExpectedEndpoint) => `${e.ip.includes(":") ? `[${e.ip}]` : e.ip}:${e.port}`;

function toMap(eps: readonly ExpectedEndpoint[]): Map<string, ExpectedEndpoint> {
  return new Map(eps.map((e) => [rsKey(e), e]));
}

/**
 * The virtual servers kube-proxy's IPVS proxier keeps on `node`, whose own addresses are
 * `nodeIps` (node-port virtual servers exist once per node address).
 *
 * @example
 * ```ts
 * expectedVirtualServers(cluster, { node: "agent1", nodeIps: ["192.168.1.11"] }).map((v) => v.key);
 * // ["tcp 10.43.0.1:443", "udp 10.43.0.10:53", "tcp 192.168.1.11:30080", ...]
 * ```
 */
export function expectedVirtualServers(
  cluster: ClusterState,
  options: { readonly node: string; readonly nodeIps: readonly string[] },
): ExpectedVirtualServer[] {
  const out: ExpectedVirtualServer[] = [];
  for (const sp of expectedServicePorts(cluster)) {
    const add = (kind: VirtualServerKind, address: string, port: number, eps: readonly ExpectedEndpoint[]) =>
      out.push({
        key: virtualServiceKey(sp.protocol, address, port),
        kind,
        address,
        port,
        protocol: sp.protocol,
        servicePort: sp,
        realServers: toMap(eps),
        persistent: sp.sessionAffinity,
        ...(sp.source === undefined ? {} : { source: sp.source }),
      });
    const external = sp.externalLocal ? localSet(sp.endpoints, options.node) : sp.clusterEndpoints;
    if (sp.clusterIP !== undefined)
      add("cluster-ip", sp.clusterIP, sp.port, internalEndpointsOn(sp, options.node));
    for (const ip of sp.externalIPs) add("external-ip", ip, sp.port, external);
    for (const ip of sp.loadBalancerIPs) add("load-balancer", ip, sp.port, external);
    if (sp.nodePort !== undefined)
      for (const ip of options.nodeIps) add("node-port", ip, sp.nodePort, external);
  }
  return out;
}

/** `ip,proto:port` members kube-proxy keeps in KUBE-CLUSTER-IP (hash:ip,port). */
export function expectedClusterIpEntries(
  ports: readonly ExpectedServicePort[],
): Map<string, ExpectedServicePort> {
  const out = new Map<string, ExpectedServicePort>();
  for (const sp of ports)
    if (sp.clusterIP !== undefined) out.set(`${sp.clusterIP},${sp.protocol}:${sp.port}`, sp);
  return out;
}

/** Node ports kube-proxy keeps in KUBE-NODE-PORT-TCP/UDP (bitmap:port), and the Local ones in KUBE-NODE-PORT-LOCAL-*. */
export function expectedNodePortEntries(
  ports: readonly ExpectedServicePort[],
): Record<
  "KUBE-NODE-PORT-TCP" | "KUBE-NODE-PORT-UDP" | "KUBE-NODE-PORT-LOCAL-TCP" | "KUBE-NODE-PORT-LOCAL-UDP",
  Map<string, ExpectedServicePort>
> {
  const out = {
    "KUBE-NODE-PORT-TCP": new Map<string, ExpectedServicePort>(),
    "KUBE-NODE-PORT-UDP": new Map<string, ExpectedServicePort>(),
    "KUBE-NODE-PORT-LOCAL-TCP": new Map<string, ExpectedServicePort>(),
    "KUBE-NODE-PORT-LOCAL-UDP": new Map<string, ExpectedServicePort>(),
  };
  for (const sp of ports) {
    if (sp.nodePort === undefined || sp.protocol === "sctp") continue;
    const proto = sp.protocol.toUpperCase() as "TCP" | "UDP";
    out[`KUBE-NODE-PORT-${proto}`].set(String(sp.nodePort), sp);
    if (sp.externalLocal) out[`KUBE-NODE-PORT-LOCAL-${proto}`].set(String(sp.nodePort), sp);
  }
  return out;
}
