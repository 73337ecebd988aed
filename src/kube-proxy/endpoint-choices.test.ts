import { describe, expect, it } from "vitest";
import { convertList } from "../collect/kube-objects.ts";
import type { ClusterState } from "../model/cluster.ts";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { endpointChain, serviceChain } from "./chain-names.ts";
import { closestChoice, clusterChoices, endpointKey, localChoices } from "./endpoint-choices.ts";
import { expectedServicePorts } from "./expected-state.ts";
import { reconcileNode } from "./reconcile-node.ts";

type Ep = { ip: string; node?: string; zone?: string; hint?: string; ready?: boolean; terminating?: boolean };

/** One Service `ns/web` port `http` 80 → 8080, with `endpoints`, as the API lists it (discovery.k8s.io/v1). */
function cluster(endpoints: readonly Ep[], spec: Record<string, unknown> = {}): ClusterState {
  const services = convertList(
    "Service",
    {
      kind: "List",
      items: [
        {
          kind: "Service",
          metadata: { name: "web", namespace: "ns", uid: "s" },
          spec: { clusterIP: "198.19.0.10", ports: [{ name: "http", port: 80, targetPort: 8080 }], ...spec },
        },
      ],
    },
    { file: "services.json" },
  ).items;
  const slices = convertList(
    "EndpointSlice",
    {
      kind: "List",
      items: [
        {
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: {
            name: "web-1",
            namespace: "ns",
            uid: "e",
            labels: { "kubernetes.io/service-name": "web" },
          },
          addressType: "IPv4",
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
          endpoints: endpoints.map((e) => ({
            addresses: [e.ip],
            conditions: {
              ready: e.ready ?? true,
              serving: e.ready === true || e.terminating === true || e.ready === undefined,
              terminating: e.terminating ?? false,
            },
            ...(e.node === undefined ? {} : { nodeName: e.node }),
            ...(e.zone === undefined ? {} : { zone: e.zone }),
            ...(e.hint === undefined ? {} : { hints: { forZones: [{ name: e.hint }] } }),
          })),
        },
      ],
    },
    { file: "endpointslices.json" },
  ).items;
  return { pods: [], services, endpointSlices: slices, nodes: [], configMaps: [] };
}

const SPN = "ns/web:http";

/** What kube-proxy v1.2x writes for the ClusterIP of `ns/web:http` sending to `targets`, in save form. */
function dump(targets: readonly string[], options: { local?: boolean } = {}): string {
  const chain = serviceChain(options.local === true ? "SVL" : "SVC", SPN, "tcp");
  const seps = targets.map((t) => ({ t, sep: endpointChain(SPN, "tcp", t.split(":")[0]!, 8080) }));
  return [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":KUBE-SERVICES - [0:0]",
    `:${chain} - [0:0]`,
    ...seps.map((s) => `:${s.sep} - [0:0]`),
    `-A KUBE-SERVICES -d 198.19.0.10/32 -p tcp -m comment --comment "${SPN} cluster IP" -m tcp --dport 80 -j ${chain}`,
    ...seps.map(
      (s, i) =>
        `-A ${chain} -m comment --comment "${SPN} -> ${s.t}"${i < seps.length - 1 ? ` -m statistic --mode random --probability ${(1 / (seps.length - i)).toFixed(11)}` : ""} -j ${s.sep}`,
    ),
    ...seps.map(
      (s) => `-A ${s.sep} -p tcp -m comment --comment "${SPN}" -m tcp -j DNAT --to-destination ${s.t}`,
    ),
    "COMMIT",
    "",
  ].join("\n");
}

function reconcile(c: ClusterState, text: string, node: { name: string; zone?: string }) {
  return reconcileNode(expectedServicePorts(c), indexDumpText(text), {
    node: node.name,
    file: "d",
    ...(node.zone === undefined ? {} : { zone: node.zone }),
  });
}

const ZONED: readonly Ep[] = [
  { ip: "10.0.1.1", node: "a1", zone: "a", hint: "a" },
  { ip: "10.0.1.2", node: "a2", zone: "a", hint: "a" },
  { ip: "10.0.2.1", node: "b1", zone: "b", hint: "b" },
];

describe("clusterChoices() with topology hints", () => {
  it("accepts the zone's hinted endpoints and the full set, and nothing in between", () => {
    const [sp] = expectedServicePorts(cluster(ZONED));
    const choices = clusterChoices(sp!, { name: "a1", zone: "a" });
    expect(choices.map((c) => [c.label, c.endpoints.map(endpointKey)])).toEqual([
      ["ready endpoints", ["10.0.1.1:8080", "10.0.1.2:8080", "10.0.2.1:8080"]],
      ["endpoints hinted for zone a", ["10.0.1.1:8080", "10.0.1.2:8080"]],
    ]);
  });

  it("ignores hints unless every ready endpoint has one (topologyModeFromHints)", () => {
    const [sp] = expectedServicePorts(cluster([...ZONED, { ip: "10.0.3.1", node: "c1" }]));
    expect(clusterChoices(sp!, { name: "a1", zone: "a" })).toHaveLength(1);
  });
});

describe("reconcileNode() with topology hints", () => {
  it("finds nothing on a node that programs only its zone's hinted endpoints", () => {
    const r = reconcile(cluster(ZONED), dump(["10.0.1.1:8080", "10.0.1.2:8080"]), { name: "a1", zone: "a" });
    expect(r.findings).toEqual([]);
    expect(r.checks.get(SPN)?.choice).toBe("endpoints hinted for zone a");
  });

  it("finds nothing on a node that ignores hints (older kube-proxy, feature off)", () => {
    const r = reconcile(cluster(ZONED), dump(["10.0.1.1:8080", "10.0.1.2:8080", "10.0.2.1:8080"]), {
      name: "a1",
      zone: "a",
    });
    expect(r.findings).toEqual([]);
  });

  it("reports the zone endpoint a node misses, measured against its zone's set", () => {
    const r = reconcile(cluster(ZONED), dump(["10.0.1.1:8080"]), { name: "a1", zone: "a" });
    expect(r.findings.map((f) => f.code)).toEqual(["endpoint-missing"]);
    expect(r.findings[0]!.message).toContain("endpoints hinted for zone a 10.0.1.2:8080");
  });

  it("does not accept another zone's subset when the node's zone is known", () => {
    // 10.0.2.1 is a ready endpoint, so not stale; but zone a's endpoints are missing.
    const r = reconcile(cluster(ZONED), dump(["10.0.2.1:8080"]), { name: "a1", zone: "a" });
    expect(r.findings.map((f) => f.code)).toEqual(["endpoint-missing"]);
    expect(r.findings[0]!.message).toContain("10.0.1.1:8080, 10.0.1.2:8080");
  });
});

describe("terminating endpoints (ProxyTerminatingEndpoints)", () => {
  const terminating: readonly Ep[] = [
    { ip: "10.0.1.1", node: "n1", ready: false, terminating: true },
    { ip: "10.0.1.2", node: "n2", ready: false, terminating: true },
  ];

  it("accepts both a node that falls back to them (v1.26+) and one that has no rules (older)", () => {
    const c = cluster(terminating);
    expect(reconcile(c, dump(["10.0.1.1:8080", "10.0.1.2:8080"]), { name: "n1" }).findings).toEqual([]);
    expect(reconcile(c, "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n", { name: "n1" }).findings).toEqual([]);
  });

  it("never uses terminating endpoints while a ready one exists", () => {
    const [sp] = expectedServicePorts(cluster([...terminating, { ip: "10.0.1.3", node: "n3" }]));
    expect(clusterChoices(sp!, { name: "n1" }).map((c) => c.endpoints.map(endpointKey))).toEqual([
      ["10.0.1.3:8080"],
    ]);
  });

  it("falls back per node for Local policy", () => {
    const [sp] = expectedServicePorts(cluster([...terminating, { ip: "10.0.1.3", node: "n3" }]));
    expect(localChoices(sp!, { name: "n1" }).map((c) => c.endpoints.map(endpointKey))).toEqual([
      ["10.0.1.1:8080"],
      [],
    ]);
    expect(localChoices(sp!, { name: "n3" }).map((c) => c.endpoints.map(endpointKey))).toEqual([
      ["10.0.1.3:8080"],
    ]);
  });
});

describe("internalTrafficPolicy Local", () => {
  const eps: readonly Ep[] = [
    { ip: "10.0.1.1", node: "n1" },
    { ip: "10.0.2.1", node: "n2" },
  ];

  it("expects only the node's own endpoints behind the ClusterIP (KUBE-SVL-, v1.24+)", () => {
    const c = cluster(eps, { internalTrafficPolicy: "Local" });
    expect(reconcile(c, dump(["10.0.1.1:8080"], { local: true }), { name: "n1" }).findings).toEqual([]);
    const r = reconcile(c, dump(["10.0.1.1:8080", "10.0.2.1:8080"], { local: true }), { name: "n1" });
    expect(r.findings.map((f) => f.code)).toEqual(["endpoint-stale"]);
    expect(r.findings[0]!.message).toContain("10.0.2.1:8080");
  });

  it("expects no rule on a node without a local endpoint", () => {
    const c = cluster(eps, { internalTrafficPolicy: "Local" });
    expect(reconcile(c, "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n", { name: "n3" }).findings).toEqual([]);
  });
});

describe("closestChoice()", () => {
  it("prefers an exact match, else the fewest differences, else the first choice", () => {
    const a = { label: "a", endpoints: [] };
    const [sp] = expectedServicePorts(cluster(ZONED));
    const all = { label: "all", endpoints: sp!.endpoints };
    expect(closestChoice([all, a], new Set()).choice.label).toBe("a");
    expect(closestChoice([all, a], new Set(["10.0.1.1:8080", "10.0.1.2:8080"])).choice.label).toBe("all");
    expect(closestChoice([a, all], new Set(["x:1"])).choice.label).toBe("a");
  });
});
