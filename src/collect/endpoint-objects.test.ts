import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Node } from "../model/cluster.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";
import { selectEndpointSource, slicesFromEndpoints } from "./endpoint-objects.ts";
import { convertList } from "./kube-objects.ts";
import { readBundle } from "./read-bundle.ts";

const list = (items: unknown[]) => ({ apiVersion: "v1", kind: "List", items });

const meta = (name: string) => ({
  name,
  namespace: "shop",
  uid: `uid-${name}`,
  labels: { "kubernetes.io/service-name": "web" },
});

describe("toEndpointSlice() through convertList()", () => {
  it("reads a v1beta1 endpoint's node and zone from its topology labels, and its zone hints", () => {
    const { items, problems } = convertList(
      "EndpointSlice",
      list([
        {
          apiVersion: "discovery.k8s.io/v1beta1",
          kind: "EndpointSlice",
          metadata: meta("web-abc"),
          addressType: "IPv4",
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
          endpoints: [
            {
              addresses: ["198.18.2.10"],
              conditions: { ready: true },
              topology: { "kubernetes.io/hostname": "node2", "topology.kubernetes.io/zone": "zone-b" },
              hints: { forZones: [{ name: "zone-b" }] },
              targetRef: { kind: "Pod", name: "web-1", namespace: "shop" },
            },
          ],
        },
      ]),
      { file: "cluster/endpointslices.json" },
    );
    expect(problems).toEqual([]);
    expect(items[0]!.apiVersion).toBe("discovery.k8s.io/v1beta1");
    expect(items[0]!.endpoints[0]).toMatchObject({
      nodeName: "node2",
      zone: "zone-b",
      hints: { forZones: ["zone-b"], forNodes: [] },
      targetPod: "shop/web-1",
    });
  });

  it("reads v1's nodeName, zone and node hints, and refuses another API version by name", () => {
    const { items, problems } = convertList(
      "EndpointSlice",
      list([
        {
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: meta("web-v1"),
          addressType: "IPv4",
          ports: [],
          endpoints: [
            { addresses: ["10.0.0.1"], nodeName: "n1", zone: "a", hints: { forNodes: [{ name: "n1" }] } },
          ],
        },
        {
          apiVersion: "discovery.k8s.io/v1alpha1",
          kind: "EndpointSlice",
          metadata: meta("old"),
          addressType: "IPv4",
        },
      ]),
      { file: "cluster/endpointslices.json" },
    );
    expect(items.map((s) => s.endpoints[0])).toEqual([
      {
        addresses: ["10.0.0.1"],
        conditions: {},
        nodeName: "n1",
        zone: "a",
        hints: { forZones: [], forNodes: ["n1"] },
      },
    ]);
    expect(problems.map((p) => p.message)).toEqual([
      'Cannot read cluster/endpointslices.json items[1] (shop/old): apiVersion: expected discovery.k8s.io/v1 or discovery.k8s.io/v1beta1, got "discovery.k8s.io/v1alpha1"',
    ]);
  });
});

describe("slicesFromEndpoints()", () => {
  it("makes ready and not-ready endpoints from a subset, one slice per address family", () => {
    const { items } = convertList(
      "Endpoints",
      list([
        {
          apiVersion: "v1",
          kind: "Endpoints",
          metadata: { name: "web", namespace: "shop", uid: "e1" },
          subsets: [
            {
              addresses: [{ ip: "10.0.0.1", nodeName: "n1", targetRef: { kind: "Pod", name: "web-1" } }],
              notReadyAddresses: [{ ip: "10.0.0.2" }, { ip: "fd00::2" }],
              ports: [{ name: "http", port: 8080, protocol: "TCP" }],
            },
          ],
        },
      ]),
      { file: "cluster/endpoints.json" },
    );
    const slices = slicesFromEndpoints(items[0]!);
    expect(slices.map((s) => [s.addressType, s.serviceName, s.apiVersion])).toEqual([
      ["IPv4", "web", "v1"],
      ["IPv6", "web", "v1"],
    ]);
    expect(slices[0]!.endpoints).toEqual([
      {
        addresses: ["10.0.0.1"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "n1",
        targetPod: "shop/web-1",
      },
      { addresses: ["10.0.0.2"], conditions: { ready: false, serving: false, terminating: false } },
    ]);
  });
});

describe("selectEndpointSource()", () => {
  const node = (kubeProxyVersion: string): Node => ({
    metadata: { name: "n" },
    addresses: [],
    kubeProxyVersion,
  });
  const slice = convertList(
    "EndpointSlice",
    list([
      {
        apiVersion: "discovery.k8s.io/v1beta1",
        kind: "EndpointSlice",
        metadata: meta("s"),
        addressType: "IPv4",
      },
    ]),
    { file: "f" },
  ).items;
  const endpoints = { file: "cluster/endpoints.json", items: [] };

  it("uses the slices when both are present and kube-proxy reads slices (v1.19+)", () => {
    const r = selectEndpointSource({
      slices: { file: "cluster/endpointslices.json", items: slice },
      endpoints,
      nodes: [node("v1.20.2")],
    });
    expect(r.source).toMatchObject({ kind: "EndpointSlice", apiVersions: ["discovery.k8s.io/v1beta1"] });
  });

  it("uses v1 Endpoints when every kube-proxy is older than v1.19, or when there are no slices", () => {
    const old = selectEndpointSource({
      slices: { file: "cluster/endpointslices.json", items: slice },
      endpoints,
      nodes: [node("v1.18.9+k3s1")],
    });
    expect(old.source?.kind).toBe("Endpoints");
    expect(old.source?.reason).toContain("older than v1.19");
    const none = selectEndpointSource({
      slices: { file: "x", items: [] },
      endpoints,
      nodes: [node("v1.22.0")],
    });
    expect(none.source).toMatchObject({ kind: "Endpoints", reason: "no EndpointSlices in the bundle" });
  });
});

describe("readBundle() and diagnose with v1 Endpoints only", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("says the endpoints came from v1 Endpoints", async () => {
    const d = await diagnoseBundleDir(
      resolve(process.cwd(), "testdata/kube-proxy-eras/v1.20-TestEndpointSliceE2E-endpoints"),
    );
    expect(d.steps.find((s) => s.check === "bundle")?.detail).toContain(
      "endpoints from v1 Endpoints (cluster/endpoints.json: no EndpointSlices in the bundle)",
    );
  });

  it("still requires endpointslices.json when there is no endpoints.json either", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nd-endpoints-"));
    dirs.push(dir);
    mkdirSync(join(dir, "cluster"));
    for (const f of ["pods", "services", "nodes"])
      writeFileSync(join(dir, "cluster", `${f}.json`), JSON.stringify(list([])));
    await expect(readBundle(dir)).rejects.toThrow(/cluster\/endpointslices\.json is missing/);
  });
});
