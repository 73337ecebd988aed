/**
 * Reconciliation judged by upstream kube-proxy's own unit tests, one per era: the Services and
 * EndpointSlices each test builds (hand-transcribed into testdata/kube-proxy-eras/) against the
 * rules that test expects (verbatim from ../shared/fixtures/kube-proxy/, and as real iptables-save
 * printed them in normalized/). A correct diagnosis finds nothing; one removed DNAT, one moved
 * endpoint and one dropped Service each give exactly their finding.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readBundle } from "../collect/read-bundle.ts";
import type { ClusterState, EndpointSlice } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { KUBE_PROXY_FIXTURES, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { expectedServicePorts } from "./expected-state.ts";
import { reconcileNode } from "./reconcile-node.ts";

const ERAS = resolve(process.cwd(), "testdata/kube-proxy-eras");
const NODE = "test-hostname";

interface Era {
  readonly bundle: string;
  /** Fixture files (relative to the kube-proxy fixtures) holding this test's expected rules. */
  readonly dumps: readonly string[];
  readonly source: string;
  readonly eraLabel: string;
  /** A DNAT target only one service port uses. */
  readonly dnat: { readonly target: string; readonly service: string };
  /** An endpoint moved in the API: the old one stays in the rules. */
  readonly move: {
    readonly service: string;
    readonly from: string;
    readonly to: string;
    readonly port: number;
  };
  /** A Service whose ClusterIP entry kube-proxy never wrote. */
  readonly drop: { readonly service: string; readonly clusterIP: string };
}

function normalized(name: string): string[] {
  return [
    `normalized/legacy-${name}.save.txt`,
    `normalized/legacy-${name}.save-c.txt`,
    `normalized/nft-${name}.save.txt`,
  ];
}

const V120 = "kube-proxy-iptables-v1.20ish-TestEndpointSliceE2E.txt";
const v120Mutations = {
  dnat: { target: "10.0.1.2:80", service: "ns1/svc1" },
  move: { service: "ns1/svc1", from: "10.0.1.3", to: "10.0.1.9", port: 80 },
  drop: { service: "ns1/svc1", clusterIP: "172.20.1.1" },
};

const ERA_TABLE: readonly Era[] = [
  {
    bundle: "v1.20-TestEndpointSliceE2E",
    dumps: [V120],
    source: "EndpointSlices discovery.k8s.io/v1beta1",
    eraLabel: "unknown version",
    ...v120Mutations,
  },
  {
    bundle: "v1.20-TestEndpointSliceE2E-endpoints",
    dumps: [V120],
    source: "v1 Endpoints",
    eraLabel: "unknown version",
    ...v120Mutations,
  },
  {
    bundle: "v1.21-TestHealthCheckNodePortE2E",
    dumps: [
      "kube-proxy-iptables-v1.21ish-TestHealthCheckNodePortE2E.txt",
      ...normalized("v1.21ish-TestHealthCheckNodePortE2E"),
    ],
    source: "EndpointSlices discovery.k8s.io/v1beta1",
    eraLabel: "v1.21-v1.23",
    dnat: { target: "10.0.1.3:80", service: "ns1/svc1" },
    // 10.0.1.1 is the node's own endpoint: the Local (KUBE-XLB) chain is stale as well.
    move: { service: "ns1/svc1", from: "10.0.1.1", to: "10.0.1.9", port: 80 },
    drop: { service: "ns1/svc1", clusterIP: "172.20.1.1" },
  },
  {
    bundle: "v1.23-TestOverallIPTablesRulesWithMultipleServices",
    dumps: [
      "kube-proxy-iptables-v1.23ish-TestOverallIPTablesRulesWithMultipleServices.txt",
      ...normalized("v1.23ish-TestOverallIPTablesRulesWithMultipleServices"),
    ],
    source: "EndpointSlices discovery.k8s.io/v1",
    eraLabel: "v1.21-v1.23",
    dnat: { target: "10.180.0.5:80", service: "ns4/svc4" },
    move: { service: "ns1/svc1", from: "10.180.0.1", to: "10.180.0.9", port: 80 },
    // ns3 shares its ClusterIP and port with ns2b: the entry left must not be taken for ns3's.
    drop: { service: "ns3/svc3", clusterIP: "10.20.30.43" },
  },
  {
    bundle: "v1.31-TestOverallIPTablesRules",
    dumps: [
      "kube-proxy-iptables-v1.31ish-TestOverallIPTablesRules.txt",
      ...normalized("v1.31ish-TestOverallIPTablesRules"),
    ],
    source: "EndpointSlices discovery.k8s.io/v1",
    eraLabel: "v1.31 or later",
    dnat: { target: "10.180.0.5:80", service: "ns4/svc4" },
    move: { service: "ns5/svc5", from: "10.180.0.3", to: "10.180.0.9", port: 80 },
    drop: { service: "ns1/svc1", clusterIP: "172.30.0.41" },
  },
];

const indexOf = indexDumpText;

function run(cluster: ClusterState, text: string, file: string) {
  return reconcileNode(expectedServicePorts(cluster), indexOf(text), { node: NODE, file });
}

function summary(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.code} ${f.service ?? "-"}`);
}

function moved(cluster: ClusterState, m: Era["move"]): ClusterState {
  const move = (s: EndpointSlice): EndpointSlice =>
    `${s.metadata.namespace}/${s.serviceName}` !== m.service
      ? s
      : {
          ...s,
          endpoints: s.endpoints.map((e) => (e.addresses[0] === m.from ? { ...e, addresses: [m.to] } : e)),
        };
  return { ...cluster, endpointSlices: cluster.endpointSlices.map(move) };
}

/** Drops every line of `text` for which `drop` holds, and proves one was dropped. */
function without(text: string, drop: (line: string) => boolean): string {
  const lines = text.split("\n");
  const kept = lines.filter((l) => !drop(l));
  expect(kept.length).toBeLessThan(lines.length);
  return kept.join("\n");
}

const fixturesMissing = skipWithoutSharedFixtures("upstream kube-proxy era fixtures");

describe.skipIf(fixturesMissing)("reconcileNode() on upstream kube-proxy test fixtures", () => {
  for (const era of ERA_TABLE) {
    describe(era.bundle, () => {
      const load = async () => (await readBundle(join(ERAS, era.bundle))).cluster;

      it(`reads the test's objects (${era.source})`, async () => {
        const cluster = await load();
        expect(cluster.endpointSource?.kind).toBe(
          era.source === "v1 Endpoints" ? "Endpoints" : "EndpointSlice",
        );
        if (era.source !== "v1 Endpoints")
          expect(cluster.endpointSource?.apiVersions).toEqual([era.source.replace("EndpointSlices ", "")]);
      });

      for (const dump of era.dumps) {
        const path = join(KUBE_PROXY_FIXTURES, dump);
        it(`finds nothing wrong in ${dump}`, async () => {
          expect(existsSync(path)).toBe(true);
          const r = run(await load(), readFileSync(path, "utf8"), dump);
          expect(r.mode).toBe("iptables");
          expect(r.undecided).toBeUndefined();
          expect(r.era?.label).toBe(era.eraLabel);
          expect(summary(r.findings)).toEqual([]);
        });
      }

      const dump = era.dumps.at(-1)!;
      it(`reports exactly the missing endpoint when a DNAT is removed (${dump})`, async () => {
        const text = without(readFileSync(join(KUBE_PROXY_FIXTURES, dump), "utf8"), (l) =>
          l.includes(`--to-destination ${era.dnat.target}`),
        );
        const r = run(await load(), text, dump);
        expect(summary(r.findings)).toEqual([`endpoint-missing ${era.dnat.service}`]);
        expect(r.findings[0]!.message).toContain(era.dnat.target);
      });

      it(`reports exactly the stale and the missing endpoint when one moves (${dump})`, async () => {
        const r = run(
          moved(await load(), era.move),
          readFileSync(join(KUBE_PROXY_FIXTURES, dump), "utf8"),
          dump,
        );
        expect(summary(r.findings)).toEqual([
          `endpoint-stale ${era.move.service}`,
          `endpoint-missing ${era.move.service}`,
        ]);
        expect(r.findings[0]!.message).toContain(`${era.move.from}:${era.move.port}`);
        expect(r.findings[1]!.message).toContain(`${era.move.to}:${era.move.port}`);
      });

      it(`reports exactly the missing Service when its entry was never written (${dump})`, async () => {
        const cluster = await load();
        const ports = expectedServicePorts(cluster).filter((p) => p.service === era.drop.service);
        const text = without(
          readFileSync(join(KUBE_PROXY_FIXTURES, dump), "utf8"),
          (l) =>
            l.includes("-A KUBE-SERVICES ") &&
            new RegExp(`-d ${era.drop.clusterIP.replaceAll(".", "\\.")}(/32)? `).test(l) &&
            ports.some((p) => l.includes(`-j ${p.chains.SVC}`)),
        );
        const r = run(cluster, text, dump);
        expect(summary(r.findings)).toEqual([`service-rules-missing ${era.drop.service}`]);
        expect(r.findings[0]!.severity).toBe("error");
      });
    });
  }
});

describe.skipIf(fixturesMissing)("reconcileNode() on the Local-policy chain (KUBE-XLB) contents", () => {
  it("reports a KUBE-XLB chain that balances to another node's endpoint, from outside only", async () => {
    const cluster = (await readBundle(join(ERAS, "v1.21-TestHealthCheckNodePortE2E"))).cluster;
    const dump = "normalized/legacy-v1.21ish-TestHealthCheckNodePortE2E.save.txt";
    // The XLB chain's only balancing rule jumps to 10.0.1.1's SEP chain (the node's own endpoint);
    // point it at 10.0.1.2's (on node2), as a kube-proxy that missed a pod move would.
    const text = readFileSync(join(KUBE_PROXY_FIXTURES, dump), "utf8").replace(
      /(-A KUBE-XLB-AQI2S6QIMU7PVVRP [^\n]*Balancing rule 0[^\n]*-j )KUBE-SEP-3JOIVZTXZZRGORX4/,
      "$1KUBE-SEP-IO5XOSKPAXIFQXAJ",
    );
    expect(text).toContain("-j KUBE-SEP-IO5XOSKPAXIFQXAJ");
    const r = run(cluster, text, dump);
    expect(summary(r.findings)).toEqual(["endpoint-stale ns1/svc1", "endpoint-missing ns1/svc1"]);
    expect(r.findings[0]!.message).toContain("10.0.1.2:80");
    expect(r.findings[0]!.message).toContain("from outside (externalTrafficPolicy Local)");
    expect(r.findings[1]!.message).toContain("10.0.1.1:80");
  });
});

describe.skipIf(fixturesMissing)("reconcileNode() on chains of a deleted Service", () => {
  const dump = "normalized/legacy-v1.31ish-TestOverallIPTablesRules.save.txt";
  const withoutSvc1 = async (): Promise<ClusterState> => {
    const c = (await readBundle(join(ERAS, "v1.31-TestOverallIPTablesRules"))).cluster;
    return {
      ...c,
      services: c.services.filter((s) => s.metadata.name !== "svc1"),
      endpointSlices: c.endpointSlices.filter((s) => s.serviceName !== "svc1"),
    };
  };

  it("only notes chains no rule uses any more (a partial sync's leftovers)", async () => {
    const text = without(readFileSync(join(KUBE_PROXY_FIXTURES, dump), "utf8"), (l) =>
      l.includes("-j KUBE-SVC-XPGD46QRK7WJZT7O"),
    );
    const r = run(await withoutSvc1(), text, dump);
    expect(r.findings.map((f) => `${f.code} ${f.severity}`)).toEqual(["chain-leftover info"]);
  });

  it("warns while a rule still sends the deleted Service's ClusterIP into them", async () => {
    const r = run(await withoutSvc1(), readFileSync(join(KUBE_PROXY_FIXTURES, dump), "utf8"), dump);
    expect(r.findings.map((f) => `${f.code} ${f.severity}`)).toEqual(["chain-leftover warning"]);
  });
});

describe("reconcileNode() on a v1.18-shaped node (pre-1.19 unnamed-port names, v1 Endpoints)", () => {
  const dump = readFileSync(join(ERAS, "v1.18-unnamed-port.iptables-save.txt"), "utf8");

  it("matches the old `ns/name:` chain names by hash and finds nothing wrong", async () => {
    const cluster = (await readBundle(join(ERAS, "v1.20-TestEndpointSliceE2E-endpoints"))).cluster;
    const r = run(cluster, dump, "v1.18.txt");
    expect(summary(r.findings)).toEqual([]);
    expect([...(r.checks.get("ns1/svc1")?.dnat.keys() ?? [])]).toEqual([
      "10.0.1.1:80",
      "10.0.1.2:80",
      "10.0.1.3:80",
    ]);
  });

  it("reports the endpoint that moved, though every name carries the old colon", async () => {
    const cluster = (await readBundle(join(ERAS, "v1.20-TestEndpointSliceE2E-endpoints"))).cluster;
    const r = run(
      moved(cluster, { service: "ns1/svc1", from: "10.0.1.2", to: "10.0.1.7", port: 80 }),
      dump,
      "v1.18.txt",
    );
    expect(summary(r.findings)).toEqual(["endpoint-stale ns1/svc1", "endpoint-missing ns1/svc1"]);
  });
});
