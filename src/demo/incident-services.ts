/** The demo cluster's Services and EndpointSlices (src/demo/incident.ts tells the story). */
import { APPS, appPodName, IP, NODES, REGISTER_IP } from "./incident-cluster.ts";
import { endpointSlice, list, service } from "./k8s-objects.ts";

function systemServices() {
  const s = service;
  return [
    s({
      namespace: "default",
      name: "kubernetes",
      clusterIP: "10.43.0.1",
      labels: { component: "apiserver", provider: "kubernetes" },
      ports: [{ name: "https", port: 443, targetPort: 6443 }],
    }),
    s({
      namespace: "kube-system",
      name: "kube-dns",
      clusterIP: "10.43.0.10",
      selector: { "k8s-app": "kube-dns" },
      labels: { "k8s-app": "kube-dns" },
      ports: [
        { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, targetPort: 53 },
        { name: "metrics", port: 9153, targetPort: 9153 },
      ],
    }),
    s({
      namespace: "kube-system",
      name: "metrics-server",
      clusterIP: "10.43.118.24",
      selector: { "k8s-app": "metrics-server" },
      ports: [{ name: "https", port: 443, targetPort: "https" }],
    }),
    s({
      namespace: "kube-system",
      name: "traefik",
      type: "LoadBalancer",
      clusterIP: "10.43.212.9",
      selector: { "app.kubernetes.io/name": "traefik" },
      loadBalancerIPs: NODES.map((n) => n.ip),
      ports: [
        { name: "web", port: 80, targetPort: "web", nodePort: 31280 },
        { name: "websecure", port: 443, targetPort: "websecure", nodePort: 30443 },
      ],
    }),
  ];
}

function eopxServices() {
  const s = service;
  return [
    s({
      namespace: "eopx",
      name: "eopx-register",
      clusterIP: "10.43.176.183",
      selector: { app: "eopx-register" },
      ports: [
        { name: "http", port: 8848, targetPort: "http" },
        { name: "grpc", port: 9848, targetPort: 9848 },
      ],
    }),
    s({
      namespace: "eopx",
      name: "eopx-gateway",
      type: "NodePort",
      clusterIP: "10.43.87.140",
      selector: { app: "eopx-gateway" },
      ports: [{ name: "http", port: 8080, targetPort: 8080, nodePort: 30080 }],
    }),
    s({
      namespace: "eopx",
      name: "eopx-order",
      clusterIP: "10.43.33.201",
      selector: { app: "eopx-order" },
      ports: [{ name: "http", port: 8081, targetPort: "http" }],
    }),
    ...APPS.map((app) =>
      s({
        namespace: "eopx",
        name: app.name,
        clusterIP: app.clusterIP,
        selector: { app: app.name },
        ports: [{ name: "tcp", port: app.port, targetPort: app.port }],
      }),
    ),
  ];
}

function systemSlices() {
  const e = endpointSlice;
  return [
    e({
      namespace: "default",
      service: "kubernetes",
      suffix: "",
      ports: [{ name: "https", port: 6443 }],
      endpoints: [{ ip: IP.master1 }, { ip: IP.master2 }],
    }),
    e({
      namespace: "kube-system",
      service: "kube-dns",
      suffix: "q8d2n",
      ports: [
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53 },
        { name: "metrics", port: 9153 },
      ],
      endpoints: [{ ip: "10.42.0.4", node: "master1", pod: "coredns-d76bd69b-7xk2m" }],
    }),
    e({
      namespace: "kube-system",
      service: "metrics-server",
      suffix: "x2m9c",
      ports: [{ name: "https", port: 4443 }],
      endpoints: [{ ip: "10.42.0.3", node: "master1", pod: "metrics-server-7cd5fcb6b7-lq9wp" }],
    }),
    e({
      namespace: "kube-system",
      service: "traefik",
      suffix: "k5v7p",
      ports: [
        { name: "web", port: 8000 },
        { name: "websecure", port: 8443 },
      ],
      endpoints: [{ ip: "10.42.1.5", node: "master2", pod: "traefik-df4ff85d6-2hx7r" }],
    }),
  ];
}

/** The eopx slices, with eopx-register's endpoint at `registerIp` (its current or its old pod IP). */
function eopxSlices(registerIp: string) {
  const e = endpointSlice;
  const registerNode = registerIp === REGISTER_IP ? "master2" : "prod-agent1";
  return [
    e({
      namespace: "eopx",
      service: "eopx-register",
      suffix: "7fj2k",
      ports: [
        { name: "http", port: 8848 },
        { name: "grpc", port: 9848 },
      ],
      endpoints: [{ ip: registerIp, node: registerNode, pod: "eopx-register-0" }],
    }),
    e({
      namespace: "eopx",
      service: "eopx-gateway",
      suffix: "p3n8w",
      ports: [{ name: "http", port: 8080 }],
      endpoints: [{ ip: "10.42.2.31", node: "prod-agent1", pod: "eopx-gateway-7d9c6b8f5-x4kq2" }],
    }),
    e({
      namespace: "eopx",
      service: "eopx-order",
      suffix: "c6t4r",
      ports: [{ name: "http", port: 8081 }],
      endpoints: [{ ip: "10.42.0.12", node: "master1", pod: "eopx-order-5f6d8c7b9-m2p7t" }],
    }),
    ...APPS.map((app) =>
      e({
        namespace: "eopx",
        service: app.name,
        suffix: app.clusterIP.split(".").slice(2).join(""),
        ports: [{ name: "tcp", port: app.port }],
        endpoints: app.pods.map(([nodeName, ip, suffix]) => ({
          ip,
          node: nodeName,
          pod: appPodName(app, suffix),
        })),
      }),
    ),
  ];
}

/** The Services and EndpointSlices, with eopx-register's endpoint at `registerIp`. */
export function incidentServices(registerIp: string) {
  const slices = [...systemSlices(), ...eopxSlices(registerIp)];
  // The kubernetes slice of a real cluster is named "kubernetes" (no suffix).
  (slices[0]!.metadata as { name: string }).name = "kubernetes";
  return { services: list([...systemServices(), ...eopxServices()]), endpointslices: list(slices) };
}
