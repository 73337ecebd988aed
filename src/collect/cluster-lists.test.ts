import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeKubeApi } from "../testing/fake-kube-api.ts";
import { collectBundle } from "./collect-bundle.ts";
import { readBundle } from "./read-bundle.ts";

const work = mkdtempSync(join(tmpdir(), "nd-cluster-lists-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A v1beta1 slice as a v1.20 API server stores it (node in `topology`). */
const BETA_SLICE = {
  metadata: {
    name: "web-abc",
    namespace: "shop",
    uid: "s1",
    labels: { "kubernetes.io/service-name": "web" },
  },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  endpoints: [
    { addresses: ["198.18.2.10"], conditions: { ready: true }, topology: { "kubernetes.io/hostname": "a" } },
  ],
};

const ENDPOINTS = {
  metadata: { name: "web", namespace: "shop", uid: "e1" },
  subsets: [{ addresses: [{ ip: "198.18.2.10", nodeName: "a" }], ports: [{ name: "http", port: 8080 }] }],
};

async function collectFrom(discoveryVersions: readonly string[], name: string) {
  const api = new FakeKubeApi({
    nodes: [{ name: "a" }],
    endpointslices: [BETA_SLICE],
    endpoints: [ENDPOINTS],
    discoveryVersions,
  });
  await api.start();
  try {
    const out = join(work, name);
    const summary = await collectBundle({ out, via: "pod", kubeconfig: api.writeKubeconfig(work) });
    return { out, summary, requests: api.requests };
  } finally {
    await api.close();
  }
}

describe("collectBundle() asks the server which endpoint APIs it serves", () => {
  it("lists EndpointSlices v1beta1 (and v1 Endpoints) from a v1.20-era server and records it in bundle.json", async () => {
    const { out, summary, requests } = await collectFrom(["v1beta1"], "beta");
    expect(requests).toContain("GET /apis/discovery.k8s.io");
    expect(summary.lists.map((l) => l.file).sort()).toEqual([
      "cluster/endpoints.json",
      "cluster/endpointslices.json",
      "cluster/namespaces.json",
      "cluster/networkpolicies.json",
      "cluster/nodes.json",
      "cluster/pods.json",
      "cluster/services.json",
    ]);
    expect(JSON.parse(readFileSync(join(out, "bundle.json"), "utf8")).endpointApis).toEqual({
      served: ["discovery.k8s.io/v1beta1"],
      endpointSlices: "discovery.k8s.io/v1beta1",
      endpoints: true,
    });
    const bundle = await readBundle(out);
    expect(bundle.cluster.endpointSource).toMatchObject({
      kind: "EndpointSlice",
      apiVersions: ["discovery.k8s.io/v1beta1"],
    });
    expect(bundle.cluster.endpointSlices[0]?.endpoints[0]?.nodeName).toBe("a");
  });

  it("lists only v1 Endpoints from a server without discovery.k8s.io, and the bundle reads them", async () => {
    const { out, summary } = await collectFrom([], "none");
    expect(summary.lists.map((l) => l.file)).not.toContain("cluster/endpointslices.json");
    expect(JSON.parse(readFileSync(join(out, "bundle.json"), "utf8")).endpointApis).toEqual({
      served: [],
      endpoints: true,
    });
    const bundle = await readBundle(out);
    expect(bundle.cluster.endpointSource?.kind).toBe("Endpoints");
    expect(bundle.cluster.endpointSlices.map((s) => s.endpoints.map((e) => e.addresses[0]))).toEqual([
      ["198.18.2.10"],
    ]);
  });

  it("lists only EndpointSlices v1 from a current server", async () => {
    const { out, summary } = await collectFrom(["v1", "v1beta1"], "v1");
    expect(summary.lists.map((l) => l.file)).not.toContain("cluster/endpoints.json");
    const slices = JSON.parse(readFileSync(join(out, "cluster", "endpointslices.json"), "utf8"));
    expect(slices.items[0].apiVersion).toBe("discovery.k8s.io/v1");
  });
});
