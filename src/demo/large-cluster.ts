/**
 * A large synthetic cluster for the benchmark: N nodes, S Services with E endpoints in total,
 * every node's dump computed like the demo's (kube-proxy v1.23 shapes, k3s extras).
 */
import type { BundleSpec } from "./build-bundle.ts";
import { endpointSlice, list, node, service } from "./k8s-objects.ts";

export interface LargeClusterSize {
  readonly nodes: number;
  readonly services: number;
  readonly endpoints: number;
}

function ip(base: number): string {
  return `${(base >>> 24) & 255}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}`;
}

/** The bundle description of a large healthy cluster (pod CIDR 10.32.0.0/12, one /20 per node). */
export function largeClusterSpec(size: LargeClusterSize): BundleSpec {
  const nodes = Array.from({ length: size.nodes }, (_, i) => ({
    name: `node-${String(i + 1).padStart(2, "0")}`,
    ip: `192.168.${20 + (i >> 8)}.${(i & 255) + 1}`,
    podCIDR: `${ip(((10 << 24) | (32 << 16)) + i * 4096)}/20`,
  }));
  const perService = Math.max(1, Math.floor(size.endpoints / size.services));
  const services = [];
  const slices = [];
  let podIndex = 0;
  for (let s = 0; s < size.services; s++) {
    const ns = `team-${s % 50}`;
    const name = `svc-${s}`;
    services.push(
      service({
        namespace: ns,
        name,
        clusterIP: ip(((10 << 24) | (43 << 16)) + 16 + s),
        selector: { app: name },
        ports: [{ name: "http", port: 80, targetPort: 8080 }],
      }),
    );
    const endpoints = [];
    for (let e = 0; e < perService; e++, podIndex++) {
      const n = podIndex % size.nodes;
      const slot = Math.floor(podIndex / size.nodes) + 2;
      endpoints.push({
        ip: ip(((10 << 24) | (32 << 16)) + n * 4096 + slot),
        node: nodes[n]!.name,
        pod: `${name}-${e}`,
      });
    }
    slices.push(
      endpointSlice({
        namespace: ns,
        service: name,
        suffix: "a",
        ports: [{ name: "http", port: 8080 }],
        endpoints,
      }),
    );
  }
  return {
    cluster: `bench-${size.nodes}n-${size.services}s`,
    collectedAt: "2026-11-24T09:12:03Z",
    clusterCIDR: "10.32.0.0/12",
    serviceCIDR: "10.43.0.0/16",
    api: {
      pods: list([]),
      services: list(services),
      endpointslices: list(slices),
      nodes: list(
        nodes.map((n) =>
          node({
            ...n,
            roles: [],
            version: "v1.23.6+k3s1",
            osImage: "Debian GNU/Linux 12 (bookworm)",
            kernel: "6.1.0-13-amd64",
          }),
        ),
      ),
    },
    nodes: nodes.map((n) => ({
      name: n.name,
      podCIDR: n.podCIDR,
      iptablesVersion: "iptables v1.8.9 (nf_tables)",
      generator: "iptables-save v1.8.9 (nf_tables)",
    })),
  };
}
