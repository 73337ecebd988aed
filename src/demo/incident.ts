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
import { K3S, NODES, REGISTER_IP, REGISTER_OLD_IP } from "./incident-cluster.ts";
import { incidentPods } from "./incident-pods.ts";
import { incidentServices } from "./incident-services.ts";
import { configMap, list, namespace, node } from "./k8s-objects.ts";
import type { NodeHostSpec } from "./render-host-files.ts";

/** Bump when the generated demo changes (names the cache directory of `diagnose --demo`). */
export const DEMO_REVISION = 5;
export const DEMO_CLUSTER = "eopx-prod";
export const DEMO_COLLECTED_AT = "2026-11-24T09:12:03Z";
/** The question the demo answers (README Quick start). */
export const DEMO_FROM = "eopx/eopx-gateway-7d9c6b8f5-x4kq2";
export const DEMO_HEALTHY_FROM = "eopx/eopx-order-5f6d8c7b9-m2p7t";
export const DEMO_TO = "eopx-register:8848";

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

/**
 * A node's host network: flannel VXLAN on eth0 (MTU 1500) of 192.168.10.0/24. prod-agent1's kernel
 * 4.19 has VXLAN's checksum-offload bug (flannel-io/flannel#1279): its flannel.1 runs with
 * tx-checksum-ip-generic off, as flannel's troubleshooting guide advises.
 */
function hostSpec(i: number): NodeHostSpec {
  const n = NODES[i]!;
  return {
    publicIp: n.ip,
    underlayPrefix: 24,
    gateway: "192.168.10.1",
    vtepMac: n.vtepMac,
    ethMac: n.ethMac,
    cniMac: n.cniMac,
    underlayMtu: 1500,
    txChecksum: n.name !== "prod-agent1",
  };
}

/** The demo cluster's bundle description (feed it to {@linkcode buildBundle}). */
export function incidentBundleSpec(): BundleSpec {
  const current = incidentServices(REGISTER_IP);
  const synced = incidentServices(REGISTER_OLD_IP);
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
      pods: list(incidentPods()),
      services: current.services,
      endpointslices: current.endpointslices,
      nodes: list(
        NODES.map((n) =>
          node({ ...n, version: K3S, ...OS[n.name], flannel: { publicIp: n.ip, vtepMac: n.vtepMac } }),
        ),
      ),
      configmaps: configMaps(),
      // The incident has no NetworkPolicy: the network-policy link is proven by an empty list.
      networkpolicies: list([]),
      namespaces: list(["default", "eopx", "kube-system"].map(namespace)),
    },
    nodes: [
      {
        name: "master1",
        host: hostSpec(0),
        podCIDR: NODES[0].podCIDR,
        iptablesVersion: "iptables v1.8.9 (nf_tables)",
        generator: "iptables-save v1.8.9 (nf_tables)",
        k3sVersion,
        hostPorts: hostPorts(0),
      },
      {
        name: "master2",
        host: hostSpec(1),
        podCIDR: NODES[1].podCIDR,
        iptablesVersion: "iptables v1.8.9 (nf_tables)",
        generator: "iptables-save v1.8.9 (nf_tables)",
        k3sVersion,
        hostPorts: hostPorts(1),
      },
      {
        name: "prod-agent1",
        host: hostSpec(2),
        podCIDR: NODES[2].podCIDR,
        iptablesVersion: "iptables v1.8.2 (nf_tables)",
        generator: "xtables-save v1.8.2",
        commentLast: true,
        k3sVersion,
        hostPorts: hostPorts(2),
        lastSynced: synced,
        leak: { kubeRouterCopies: 43_000, flannelCopies: 25_000 },
        // No nft on this node (Debian 10; k3s v1.23.6 bundles none, k3s-io/k3s#11267 came later): its
        // bundle has no nft-ruleset files, so its host firewall is undecided. (nft would list the
        // 179,000 leaked rules too: 65 MB of JSON, minutes of netlink dump: docs/bundle.md.)
        nftInstalled: false,
        extraFiles: {
          "iptables-check.err": "iptables: Bad rule (does a matching rule exist in that chain?).\n",
          "iptables-check.exit": "1\n",
        },
      },
    ],
  };
}
