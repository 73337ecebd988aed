/**
 * A bundle around one generated node dump, for `diagnose` on every layout: the API lists describe
 * exactly the Services, endpoints and NodePorts the dump's kube-proxy rules were written for, so a
 * correct diagnosis of the node finds its data plane in order and its leaked copies as node health.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { endpointSlice, list, node, pod, service } from "../demo/k8s-objects.ts";
import { type GenerateDumpOptions, type GeneratedService, generatedServices } from "./generate-dump.ts";

/** Bump when the bundle's content changes. */
const BUNDLE_VERSION = "3";
export const BUNDLE_NODE = "node-1";
/** A client pod on the node, for `diagnose --from`: `--from ns1/bench-client --to svc-1:80` (Service 1 has endpoints). */
export const BUNDLE_QUESTION = { from: "ns1/bench-client", to: "svc-1:80" } as const;

/**
 * A client pod `ns1/<client>` (labelled `app: <client>`) on node `nodeName`, and that node, as the
 * API would list them: the bench bundle's and the large test bundle's (src/testing/large-api-bundle.ts).
 */
export function clientAndNodeLists(nodeName: string, client: string): { pods: unknown; nodes: unknown } {
  const pods = list([
    pod({
      namespace: "ns1",
      name: client,
      node: nodeName,
      ip: "10.42.255.250",
      hostIP: "192.168.20.1",
      labels: { app: client },
      image: "busybox",
    }),
  ]);
  const nodes = list([
    node({
      name: nodeName,
      ip: "192.168.20.1",
      podCIDR: "10.42.0.0/16",
      roles: [],
      version: "v1.31.4+k3s1",
      osImage: "Debian GNU/Linux 12 (bookworm)",
      kernel: "6.1.0-13-amd64",
    }),
  ]);
  return { pods, nodes };
}

/**
 * Writes (or reuses) `.bench/bundle-<name>/` with `dump` as its one node's iptables-save.txt and the
 * API objects of its first `apiServices` Services (default all): with fewer, the node's other rules
 * are stale, as on a node whose kube-proxy stopped syncing, and the API side stays small.
 */
export function layoutBundle(
  name: string,
  dump: string,
  options: GenerateDumpOptions,
  apiServices = Number.POSITIVE_INFINITY,
): string {
  const dir = resolve(".bench", `bundle-${name}`);
  const stamp = join(dir, ".version");
  const version = `${BUNDLE_VERSION} ${readFileSync(`${dump}.version`, "utf8")} ${JSON.stringify(options)} ${apiServices}`;
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === version) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "cluster"), { recursive: true });
  mkdirSync(join(dir, "nodes", BUNDLE_NODE), { recursive: true });
  const services = generatedServices(options).slice(0, apiServices);
  // Indented as `kubectl get -o json` prints it.
  const json = (file: string, value: unknown) =>
    writeFileSync(join(dir, file), `${JSON.stringify(value, null, 4)}\n`);
  json("bundle.json", {
    format: "netdoctor-bundle/v1",
    cluster: `bench-${name}`,
    collectedAt: "2026-11-25T08:18:56Z",
  });
  const lists = apiLists(services, BUNDLE_NODE);
  json("cluster/services.json", lists.services);
  json("cluster/endpointslices.json", lists.endpointSlices);
  const clientAndNode = clientAndNodeLists(BUNDLE_NODE, "bench-client");
  json("cluster/pods.json", clientAndNode.pods);
  json("cluster/nodes.json", clientAndNode.nodes);
  writeFileSync(join(dir, "nodes", BUNDLE_NODE, "iptables-version.txt"), "iptables v1.8.9 (nf_tables)\n");
  // A hard link: the bundle holds the very file the other benches read, without a copy.
  linkSync(dump, join(dir, "nodes", BUNDLE_NODE, "iptables-save.txt"));
  writeFileSync(stamp, version);
  return dir;
}

/**
 * The Service and EndpointSlice lists of generated Services, every endpoint on `nodeName`, as
 * `kubectl get -o json` returns them (also used by src/testing/large-api-bundle.ts).
 */
export function apiLists(
  services: readonly GeneratedService[],
  nodeName: string,
): { services: unknown; endpointSlices: unknown } {
  return {
    services: list(
      services.map((s) =>
        service({
          namespace: s.namespace,
          name: s.name,
          ...(s.nodePort === undefined ? {} : { type: "NodePort" as const }),
          clusterIP: s.clusterIP,
          ports: [
            {
              name: "http",
              port: s.port,
              targetPort: 8080,
              ...(s.nodePort === undefined ? {} : { nodePort: s.nodePort }),
            },
          ],
          selector: { app: s.name },
        }),
      ),
    ),
    endpointSlices: list(
      services.map((s) =>
        endpointSlice({
          namespace: s.namespace,
          service: s.name,
          suffix: "a",
          ports: [{ name: "http", port: 8080 }],
          endpoints: s.endpoints.map((ip) => ({ ip, node: nodeName })),
        }),
      ),
    ),
  };
}
