/**
 * The built-in demo: the incident behind netdoctor (issue 4, "Why"), as a three-node k3s cluster.
 *
 * eopx-gateway (on prod-agent1) cannot reach its config server eopx-register:8848 ("Host is
 * unreachable"). DNS, the Service and its ready endpoint are fine, and master2, where kubectl was
 * run, has correct rules. prod-agent1 runs Debian 10's iptables 1.8.2 on nf_tables: k3s-io/k3s#3117
 * leaked ~180,000 duplicate rules there, kube-proxy's syncs stopped landing, and the node still
 * DNATs eopx-register to 10.42.2.17, the IP its pod had before it was evicted from the overloaded
 * node and rescheduled on master2 as 10.42.1.23. As a work-around someone pinned 10.42.1.23 into
 * the gateway's NACOS_HOST. eopx-order, on the healthy master1, reaches eopx-register fine.
 */
import type { BundleSpec } from "./build-bundle.ts";
import { configMap, endpointSlice, list, node, pod, service } from "./k8s-objects.ts";

/** Bump when the generated demo changes (names the cache directory of `diagnose --demo`). */
export const DEMO_REVISION = 2;
export const DEMO_CLUSTER = "eopx-prod";
export const DEMO_COLLECTED_AT = "2026-11-24T09:12:03Z";
/** The question the demo answers (README Quick start). */
export const DEMO_FROM = "eopx/eopx-gateway-7d9c6b8f5-x4kq2";
export const DEMO_HEALTHY_FROM = "eopx/eopx-order-5f6d8c7b9-m2p7t";
export const DEMO_TO = "eopx-register:8848";

const K3S = "v1.23.6+k3s1";
const NODES = [
  {
    name: "master1",
    ip: "192.168.10.11",
    podCIDR: "10.42.0.0/24",
    roles: ["control-plane", "master", "etcd"],
  },
  {
    name: "master2",
    ip: "192.168.10.12",
    podCIDR: "10.42.1.0/24",
    roles: ["control-plane", "master", "etcd"],
  },
  { name: "prod-agent1", ip: "192.168.10.21", podCIDR: "10.42.2.0/24", roles: [] as string[] },
] as const;
const IP = { master1: "192.168.10.11", master2: "192.168.10.12", "prod-agent1": "192.168.10.21" } as const;

const REGISTER_IP = "10.42.1.23";
const REGISTER_OLD_IP = "10.42.2.17";

/** The rest of the eopx platform: ordinary Deployments whose rules make a healthy node's ~200 rules. */
const APPS = [
  {
    name: "eopx-auth",
    port: 9000,
    clusterIP: "10.43.41.17",
    rs: "6b8d9f7c4d",
    pods: [
      ["master1", "10.42.0.21", "h7k2p"],
      ["master2", "10.42.1.33", "t9w4x"],
      ["prod-agent1", "10.42.2.45", "q2m8z"],
    ],
  },
  {
    name: "eopx-user",
    port: 9001,
    clusterIP: "10.43.152.88",
    rs: "58f6c9b7d5",
    pods: [
      ["master2", "10.42.1.41", "c3v7n"],
      ["prod-agent1", "10.42.2.52", "x8d4k"],
    ],
  },
  {
    name: "eopx-message",
    port: 9002,
    clusterIP: "10.43.97.230",
    rs: "7c5d8b6f9a",
    pods: [
      ["master1", "10.42.0.27", "m5r2t"],
      ["master2", "10.42.1.47", "j6p9w"],
    ],
  },
  {
    name: "eopx-file",
    port: 9003,
    clusterIP: "10.43.201.64",
    rs: "5d9b7c8f6e",
    pods: [
      ["prod-agent1", "10.42.2.58", "b4n7q"],
      ["master1", "10.42.0.33", "v8k3s"],
    ],
  },
  {
    name: "eopx-job-admin",
    port: 8090,
    clusterIP: "10.43.128.5",
    rs: "6f7b9d5c8b",
    pods: [["master2", "10.42.1.52", "z2h6m"]],
  },
  {
    name: "eopx-redis",
    port: 6379,
    clusterIP: "10.43.66.199",
    rs: "",
    pods: [["master1", "10.42.0.40", "0"]],
  },
  {
    name: "eopx-mysql",
    port: 3306,
    clusterIP: "10.43.12.140",
    rs: "",
    pods: [["master2", "10.42.1.60", "0"]],
  },
] as const;

function appPodName(app: (typeof APPS)[number], suffix: string): string {
  return app.rs === "" ? `${app.name}-${suffix}` : `${app.name}-${app.rs}-${suffix}`;
}

function pods() {
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

function services(registerIp: string) {
  const s = service;
  const e = endpointSlice;
  const api = [
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
  const registerNode = registerIp === REGISTER_IP ? "master2" : "prod-agent1";
  const slices = [
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
  // The kubernetes slice of a real cluster is named "kubernetes" (no suffix).
  (slices[0]!.metadata as { name: string }).name = "kubernetes";
  return { services: list(api), endpointslices: list(slices) };
}

const COREFILE = `.:53 {
    errors
    health
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    hosts /etc/coredns/NodeHosts {
      ttl 60
      reload 15s
      fallthrough
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
`;

/** A Spring `${NAME}` placeholder (config syntax, not a JS template). */
function placeholder(name: string): string {
  return `\${${name}}`;
}

function configMaps() {
  return list([
    configMap("kube-system", "coredns", {
      Corefile: COREFILE,
      NodeHosts: NODES.map((n) => `${n.ip} ${n.name}`).join("\n"),
    }),
    configMap("eopx", "eopx-common", {
      "nacos.server-addr": "eopx-register:8848",
      "spring.profiles.active": "prod",
    }),
    configMap("eopx", "eopx-gateway-config", {
      // Spring placeholders, resolved from the env vars at run time.
      "application.yaml":
        "server:\n  port: 8080\nspring:\n  cloud:\n    nacos:\n      config:\n        server-addr: " +
        placeholder("NACOS_HOST") +
        ":" +
        placeholder("NACOS_PORT") +
        "\n        namespace: eopx-prod\n",
    }),
  ]);
}

const OS = {
  master1: { osImage: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-13-amd64" },
  master2: { osImage: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-13-amd64" },
  "prod-agent1": { osImage: "Debian GNU/Linux 10 (buster)", kernel: "4.19.0-14-amd64" },
} as const;

/** The demo cluster's bundle description (feed it to {@linkcode buildBundle}). */
export function incidentBundleSpec(): BundleSpec {
  const current = services(REGISTER_IP);
  const synced = services(REGISTER_OLD_IP);
  const k3sVersion = `k3s version ${K3S} (418c3fa8)\ngo version go1.17.5\n`;
  const hostPorts = (i: number) => [
    {
      podIP: `${NODES[i]!.podCIDR.slice(0, -4)}${[5, 4, 3][i]}`,
      containerId: ["4c1f0e0a9b7d", "9e2d7c3b1a05", "b3a8f61d2c94"][i]!,
      ports: [
        { hostPort: 80, containerPort: 80, protocol: "tcp" as const },
        { hostPort: 443, containerPort: 443, protocol: "tcp" as const },
      ],
    },
  ];
  return {
    cluster: DEMO_CLUSTER,
    collectedAt: DEMO_COLLECTED_AT,
    clusterCIDR: "10.42.0.0/16",
    serviceCIDR: "10.43.0.0/16",
    api: {
      pods: list(pods()),
      services: current.services,
      endpointslices: current.endpointslices,
      nodes: list(NODES.map((n) => node({ ...n, version: K3S, ...OS[n.name] }))),
      configmaps: configMaps(),
    },
    nodes: [
      {
        name: "master1",
        podCIDR: NODES[0].podCIDR,
        iptablesVersion: "iptables v1.8.9 (nf_tables)",
        generator: "iptables-save v1.8.9 (nf_tables)",
        k3sVersion,
        hostPorts: hostPorts(0),
      },
      {
        name: "master2",
        podCIDR: NODES[1].podCIDR,
        iptablesVersion: "iptables v1.8.9 (nf_tables)",
        generator: "iptables-save v1.8.9 (nf_tables)",
        k3sVersion,
        hostPorts: hostPorts(1),
      },
      {
        name: "prod-agent1",
        podCIDR: NODES[2].podCIDR,
        iptablesVersion: "iptables v1.8.2 (nf_tables)",
        generator: "xtables-save v1.8.2",
        commentLast: true,
        k3sVersion,
        hostPorts: hostPorts(2),
        lastSynced: synced,
        leak: { kubeRouterCopies: 43_000, flannelCopies: 25_000 },
        extraFiles: {
          "iptables-check.err": "iptables: Bad rule (does a matching rule exist in that chain?).\n",
          "iptables-check.exit": "1\n",
        },
      },
    ],
  };
}
