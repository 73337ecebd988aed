import { describe, expect, it } from "vitest";
import { DumpBuilder } from "../demo/dump-builder.ts";
import { endpointSlice, list, service } from "../demo/k8s-objects.ts";
import { renderKubeProxy, savedProbability } from "../demo/render-kube-proxy.ts";
import { DumpReader } from "../parse/dump-reader.ts";
import { clusterOf } from "../testing/demo-cluster.ts";
import { expectedServicePorts, internalEndpointsOn } from "./expected-state.ts";
import { KubeProxyIndexer } from "./kube-proxy-index.ts";
import { reconcileNode } from "./reconcile-node.ts";

function cluster(extra: { itp?: boolean; terminatingOnly?: boolean } = {}) {
  const svc = service({
    namespace: "ns1",
    name: "svc1",
    clusterIP: "10.43.0.50",
    ports: [{ port: 80, targetPort: "web" }],
    selector: { app: "a" },
  });
  if (extra.itp) (svc.spec as Record<string, unknown>).internalTrafficPolicy = "Local";
  const slice = endpointSlice({
    namespace: "ns1",
    service: "svc1",
    suffix: "x",
    ports: [{ port: 8080 }],
    endpoints: [
      { ip: "10.42.0.10", node: "n1", ready: !extra.terminatingOnly },
      { ip: "10.42.1.2", node: "n2", ready: !extra.terminatingOnly },
    ],
  });
  if (extra.terminatingOnly) {
    for (const ep of slice.endpoints as { conditions: Record<string, boolean> }[])
      ep.conditions = { ready: false, serving: true, terminating: true };
  }
  const headless = service({
    namespace: "ns1",
    name: "db",
    clusterIP: "None",
    ports: [{ port: 5432, targetPort: 5432 }],
  });
  return clusterOf({ services: list([svc, headless]), endpointslices: list([slice]) });
}

describe("expected state", () => {
  it("names an unnamed port without the colon (v1.19+) and keeps the pre-1.19 names too", () => {
    const [sp] = expectedServicePorts(cluster());
    expect(sp!.svcPortName).toBe("ns1/svc1");
    expect(sp!.chains.SVC).toBe("KUBE-SVC-AQI2S6QIMU7PVVRP");
    expect(sp!.legacyChains.SVC).toBe("KUBE-SVC-AHZNAGK3SCETOS2T");
  });

  it("skips headless Services and sorts endpoints as strings, with the slice's target port", () => {
    const ports = expectedServicePorts(cluster());
    expect(ports.map((p) => p.service)).toEqual(["ns1/svc1"]);
    expect(ports[0]!.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual([
      "10.42.0.10:8080",
      "10.42.1.2:8080",
    ]);
  });

  it("uses only the node's endpoints with internalTrafficPolicy Local", () => {
    const [sp] = expectedServicePorts(cluster({ itp: true }));
    expect(internalEndpointsOn(sp!, "n2").map((e) => e.ip)).toEqual(["10.42.1.2"]);
    expect(internalEndpointsOn(sp!, "n3")).toEqual([]);
  });

  it("falls back to serving-terminating endpoints when none is ready", () => {
    const [sp] = expectedServicePorts(cluster({ terminatingOnly: true }));
    expect(sp!.clusterEndpoints).toHaveLength(2);
  });

  it("prints probabilities as iptables-save does", () => {
    expect([2, 3, 5, 10].map(savedProbability)).toEqual([
      "0.50000000000",
      "0.33333333349",
      "0.20000000019",
      "0.10000000009",
    ]);
  });
});

function indexOf(text: string) {
  const idx = new KubeProxyIndexer();
  const r = new DumpReader(idx.handler);
  r.push(text);
  r.end();
  return idx.finish();
}

describe("reconciliation by hash and ClusterIP, not by comment", () => {
  it("accepts a pre-1.19 node whose chains carry the old names (no leftover, no stale)", () => {
    const ports = expectedServicePorts(cluster());
    const legacy = ports.map((p) => ({
      ...p,
      chains: p.legacyChains,
      endpoints: p.endpoints.map((e) => ({ ...e, sepChain: e.legacySepChain })),
      clusterEndpoints: p.clusterEndpoints.map((e) => ({ ...e, sepChain: e.legacySepChain })),
    }));
    const b = new DumpBuilder();
    renderKubeProxy(b, legacy, { name: "n1", clusterCIDR: "10.42.0.0/16" });
    const text = b
      .print({ generator: "iptables-save v1.6.1", date: "Mon Jan  1 00:00:00 2020" })
      .replace(/ -m comment --comment (?:"(?:[^"\\]|\\.)*"|\S+)/g, "");
    expect(text).toContain(legacy[0]!.chains.SVC);
    const r = reconcileNode(ports, indexOf(text), { node: "n1", file: "n1.txt" });
    expect(r.findings).toEqual([]);
    expect(r.checks.get("ns1/svc1")?.dnat.size).toBe(2);
  });

  it("reports a leftover chain of a deleted Service", () => {
    const ports = expectedServicePorts(cluster());
    const b = new DumpBuilder();
    renderKubeProxy(b, ports, { name: "n1", clusterCIDR: "10.42.0.0/16" });
    b.rule("nat", "KUBE-SVC-GONEGONEGONEGONE", "-j KUBE-SEP-GONEGONEGONEGONE").rule(
      "nat",
      "KUBE-SEP-GONEGONEGONEGONE",
      "-p tcp -m tcp -j DNAT --to-destination 10.42.9.9:80",
    );
    const r = reconcileNode(ports, indexOf(b.print({ generator: "x v1", date: "d" })), {
      node: "n1",
      file: "n1.txt",
    });
    expect(r.findings.map((f) => f.code)).toEqual(["chain-leftover"]);
    expect(r.findings[0]!.message).toContain("1 kube-proxy chain ");
  });
});
