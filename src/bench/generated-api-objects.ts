import { type GenerateDumpOptions, generatedServices } from "./generate-dump.ts";

/**
 * Services and EndpointSlices as the API serves them for the Services of `generateDump(options)`
 * (every Service's rules in the dump agree with them), for benches that run the API comparison.
 */
export function generatedApiObjects(options: GenerateDumpOptions): {
  services: object[];
  endpointslices: object[];
} {
  const services: object[] = [];
  const endpointslices: object[] = [];
  for (const s of generatedServices(options)) {
    services.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: s.name, namespace: s.namespace },
      spec: {
        type: s.nodePort === undefined ? "ClusterIP" : "NodePort",
        clusterIP: s.clusterIP,
        clusterIPs: [s.clusterIP],
        ports: [
          {
            name: "http",
            port: s.port,
            protocol: "TCP",
            targetPort: 8080,
            ...(s.nodePort === undefined ? {} : { nodePort: s.nodePort }),
          },
        ],
      },
    });
    endpointslices.push({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `${s.name}-1`,
        namespace: s.namespace,
        labels: { "kubernetes.io/service-name": s.name },
      },
      addressType: "IPv4",
      endpoints: s.endpoints.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    });
  }
  return { services, endpointslices };
}
