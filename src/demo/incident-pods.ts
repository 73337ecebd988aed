/** The demo cluster's pods (src/demo/incident.ts tells the story). */
import { APPS, appPodName, IP, NODES, REGISTER_IP } from "./incident-cluster.ts";
import { pod } from "./k8s-objects.ts";

/** k3s's own pods: CoreDNS, the local-path provisioner, metrics-server, Traefik and its ServiceLB pods. */
function systemPods() {
  const p = pod;
  return [
    p({
      namespace: "kube-system",
      name: "coredns-d76bd69b-7xk2m",
      node: "master1",
      ip: "10.42.0.4",
      hostIP: IP.master1,
      labels: { "k8s-app": "kube-dns", app: "coredns" },
      image: "rancher/mirrored-coredns-coredns:1.9.1",
      owner: { kind: "ReplicaSet", name: "coredns-d76bd69b" },
      configMapVolumes: ["coredns"],
      ports: [
        { name: "dns", containerPort: 53, protocol: "UDP" },
        { name: "dns-tcp", containerPort: 53 },
        { name: "metrics", containerPort: 9153 },
      ],
    }),
    p({
      namespace: "kube-system",
      name: "local-path-provisioner-6c79684f77-8qz5n",
      node: "master1",
      ip: "10.42.0.2",
      hostIP: IP.master1,
      labels: { app: "local-path-provisioner" },
      image: "rancher/local-path-provisioner:v0.0.21",
      owner: { kind: "ReplicaSet", name: "local-path-provisioner-6c79684f77" },
    }),
    p({
      namespace: "kube-system",
      name: "metrics-server-7cd5fcb6b7-lq9wp",
      node: "master1",
      ip: "10.42.0.3",
      hostIP: IP.master1,
      labels: { "k8s-app": "metrics-server", app: "metrics-server" },
      image: "rancher/mirrored-metrics-server:v0.5.2",
      owner: { kind: "ReplicaSet", name: "metrics-server-7cd5fcb6b7" },
      ports: [{ name: "https", containerPort: 4443 }],
    }),
    p({
      namespace: "kube-system",
      name: "traefik-df4ff85d6-2hx7r",
      node: "master2",
      ip: "10.42.1.5",
      hostIP: IP.master2,
      labels: { "app.kubernetes.io/name": "traefik", app: "traefik" },
      image: "rancher/mirrored-library-traefik:2.6.2",
      owner: { kind: "ReplicaSet", name: "traefik-df4ff85d6" },
      ports: [
        { name: "web", containerPort: 8000 },
        { name: "websecure", containerPort: 8443 },
      ],
    }),
    ...NODES.map((n, i) =>
      p({
        namespace: "kube-system",
        name: `svclb-traefik-${["b7k2q", "n4x8d", "w9c3m"][i]}`,
        node: n.name,
        ip: `${n.podCIDR.slice(0, -4)}${[5, 4, 3][i]}`,
        hostIP: n.ip,
        labels: { app: "svclb-traefik" },
        image: "rancher/klipper-lb:v0.3.4",
        owner: { kind: "DaemonSet", name: "svclb-traefik" },
        ports: [
          { name: "lb-port-80", containerPort: 80, hostPort: 80 },
          { name: "lb-port-443", containerPort: 443, hostPort: 443 },
        ],
      }),
    ),
  ];
}

/** The eopx config server, the gateway that cannot reach it and the order service that can. */
function platformPods() {
  const p = pod;
  return [
    p({
      namespace: "eopx",
      name: "eopx-register-0",
      node: "master2",
      ip: REGISTER_IP,
      hostIP: IP.master2,
      labels: { app: "eopx-register" },
      image: "nacos/nacos-server:v2.0.4",
      owner: { kind: "StatefulSet", name: "eopx-register" },
      ports: [
        { name: "http", containerPort: 8848 },
        { name: "grpc", containerPort: 9848 },
      ],
      env: [{ name: "MODE", value: "standalone" }],
    }),
    p({
      namespace: "eopx",
      name: "eopx-gateway-7d9c6b8f5-x4kq2",
      node: "prod-agent1",
      ip: "10.42.2.31",
      hostIP: IP["prod-agent1"],
      labels: { app: "eopx-gateway" },
      image: "registry.eopx.local/eopx/gateway:3.4.1",
      owner: { kind: "ReplicaSet", name: "eopx-gateway-7d9c6b8f5" },
      ports: [{ name: "http", containerPort: 8080 }],
      configMapVolumes: ["eopx-gateway-config"],
      // The work-around: eopx-register's pod IP pinned instead of the Service name.
      env: [
        { name: "NACOS_HOST", value: REGISTER_IP },
        { name: "NACOS_PORT", value: "8848" },
        { name: "SPRING_PROFILES_ACTIVE", value: "prod" },
      ],
    }),
    p({
      namespace: "eopx",
      name: "eopx-order-5f6d8c7b9-m2p7t",
      node: "master1",
      ip: "10.42.0.12",
      hostIP: IP.master1,
      labels: { app: "eopx-order" },
      image: "registry.eopx.local/eopx/order:3.4.1",
      owner: { kind: "ReplicaSet", name: "eopx-order-5f6d8c7b9" },
      ports: [{ name: "http", containerPort: 8081 }],
      env: [
        { name: "NACOS_SERVER_ADDR", configMapKeyRef: { name: "eopx-common", key: "nacos.server-addr" } },
      ],
    }),
  ];
}

/** The rest of the eopx platform. */
function appPods() {
  const p = pod;
  return [
    ...APPS.flatMap((app) =>
      app.pods.map(([nodeName, ip, suffix]) =>
        p({
          namespace: "eopx",
          name: appPodName(app, suffix),
          node: nodeName,
          ip,
          hostIP: IP[nodeName],
          labels: { app: app.name },
          image: `registry.eopx.local/eopx/${app.name.replace("eopx-", "")}:3.4.1`,
          owner:
            app.rs === ""
              ? { kind: "StatefulSet", name: app.name }
              : { kind: "ReplicaSet", name: `${app.name}-${app.rs}` },
          ports: [{ name: "tcp", containerPort: app.port }],
          env:
            app.rs === ""
              ? []
              : [
                  {
                    name: "NACOS_SERVER_ADDR",
                    configMapKeyRef: { name: "eopx-common", key: "nacos.server-addr" },
                  },
                ],
        }),
      ),
    ),
  ];
}

/** Every pod of the demo cluster, in `kubectl get pods -A` order of the demo. */
export function incidentPods() {
  return [...systemPods(), ...platformPods(), ...appPods()];
}
