/**
 * The API side of testdata/netpol/ipvs: a small k3s-like cluster whose node1 (192.168.1.10) runs
 * kube-proxy in IPVS mode. Services: default/kubernetes, kube-system/kube-dns, shop/web (NodePort
 * 30080, one endpoint terminating), shop/api (ClientIP affinity), shop/local (NodePort 30081,
 * externalTrafficPolicy Local, its only endpoint on node2).
 */
import type { ClusterState, EndpointSlice, Service } from "../model/cluster.ts";

const src = (name: string) => ({ file: "cluster/services.json", line: name.length });

function svc(
  ns: string,
  name: string,
  clusterIP: string,
  ports: Service["ports"],
  extra: Partial<Service> = {},
): Service {
  return {
    metadata: { name, namespace: ns },
    type: "ClusterIP",
    clusterIP,
    clusterIPs: [clusterIP],
    ports,
    source: src(name),
    ...extra,
  };
}

function slice(
  ns: string,
  service: string,
  ports: EndpointSlice["ports"],
  endpoints: EndpointSlice["endpoints"],
): EndpointSlice {
  return {
    metadata: { name: `${service}-abcde`, namespace: ns },
    addressType: "IPv4",
    serviceName: service,
    ports,
    endpoints,
  };
}

const ready = (ip: string, nodeName: string) => ({
  addresses: [ip],
  conditions: { ready: true, serving: true, terminating: false },
  nodeName,
});

export const IPVS_NODE = "node1";
export const IPVS_NODE_IP = "192.168.1.10";

export const IPVS_CLUSTER: ClusterState = {
  pods: [],
  configMaps: [],
  nodes: [{ metadata: { name: IPVS_NODE }, addresses: [{ type: "InternalIP", address: IPVS_NODE_IP }] }],
  services: [
    svc("default", "kubernetes", "10.43.0.1", [
      { name: "https", protocol: "TCP", port: 443, targetPort: 6443 },
    ]),
    svc("kube-system", "kube-dns", "10.43.0.10", [
      { name: "dns", protocol: "UDP", port: 53, targetPort: 53 },
      { name: "dns-tcp", protocol: "TCP", port: 53, targetPort: 53 },
      { name: "metrics", protocol: "TCP", port: 9153, targetPort: 9153 },
    ]),
    svc("shop", "web", "10.43.12.7", [{ protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 }], {
      type: "NodePort",
    }),
    svc("shop", "api", "10.43.20.5", [{ protocol: "TCP", port: 8443, targetPort: 8443 }], {
      sessionAffinity: "ClientIP",
    }),
    svc("shop", "local", "10.43.30.1", [{ protocol: "TCP", port: 80, targetPort: 80, nodePort: 30081 }], {
      type: "NodePort",
      externalTrafficPolicy: "Local",
    }),
  ],
  endpointSlices: [
    slice(
      "default",
      "kubernetes",
      [{ name: "https", port: 6443, protocol: "TCP" }],
      [{ addresses: [IPVS_NODE_IP], conditions: { ready: true } }],
    ),
    slice(
      "kube-system",
      "kube-dns",
      [
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, protocol: "TCP" },
        { name: "metrics", port: 9153, protocol: "TCP" },
      ],
      [ready("10.42.0.4", IPVS_NODE)],
    ),
    slice(
      "shop",
      "web",
      [{ port: 8080, protocol: "TCP" }],
      [
        ready("10.42.0.7", IPVS_NODE),
        ready("10.42.1.9", "node2"),
        {
          addresses: ["10.42.0.8"],
          conditions: { ready: false, serving: true, terminating: true },
          nodeName: IPVS_NODE,
        },
      ],
    ),
    slice("shop", "api", [{ port: 8443, protocol: "TCP" }], [ready("10.42.0.11", IPVS_NODE)]),
    slice("shop", "local", [{ port: 80, protocol: "TCP" }], [ready("10.42.1.12", "node2")]),
  ],
};

/** The two listings of kubernetes-handbook's IPVS example (shared/realworld) as API objects. */
export const HANDBOOK_CLUSTER: ClusterState = {
  pods: [],
  configMaps: [],
  nodes: [],
  services: [
    svc(
      "default",
      "kubernetes",
      "10.0.0.1",
      [{ name: "https", protocol: "TCP", port: 443, targetPort: 6443 }],
      { sessionAffinity: "ClientIP" },
    ),
    svc("kube-system", "kube-dns", "10.0.0.10", [
      { name: "dns", protocol: "UDP", port: 53, targetPort: 53 },
      { name: "dns-tcp", protocol: "TCP", port: 53, targetPort: 53 },
    ]),
  ],
  endpointSlices: [
    slice(
      "default",
      "kubernetes",
      [{ name: "https", port: 6443, protocol: "TCP" }],
      [{ addresses: ["192.168.0.1"], conditions: { ready: true } }],
    ),
    slice(
      "kube-system",
      "kube-dns",
      [
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, protocol: "TCP" },
      ],
      [{ addresses: ["172.17.0.2"], conditions: { ready: true } }],
    ),
  ],
};
