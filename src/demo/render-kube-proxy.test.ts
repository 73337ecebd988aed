/**
 * The demo's kube-proxy renderer is judged by kube-proxy itself: the API objects of upstream's
 * `TestOverallIPTablesRulesWithMultipleServices` (v1.23 era), rendered by the demo, must give the
 * per-service rules that test expects, as iptables-save prints them (the shared fixture
 * normalized/legacy-v1.23ish-TestOverallIPTablesRulesWithMultipleServices.save.txt).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KUBE_PROXY_FIXTURES, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { DumpBuilder } from "./dump-builder.ts";
import { endpointSlice, list, service } from "./k8s-objects.ts";
import { proxiedPorts } from "./proxied-ports.ts";
import { renderKubeProxy, savedProbability } from "./render-kube-proxy.ts";

const FIXTURE = "normalized/legacy-v1.23ish-TestOverallIPTablesRulesWithMultipleServices.save.txt";
const skip = skipWithoutSharedFixtures("the demo renderer against kube-proxy v1.23's expectation");

type Json = Record<string, unknown>;

function withSpec(svc: Json, extra: Json): Json {
  return { ...svc, spec: { ...(svc.spec as Json), ...extra } };
}

/** The upstream test's Services and slices, read off its expectation (one port "p80" each). */
function upstreamCluster() {
  const p80 = (nodePort?: number) => [
    { name: "p80", port: 80, targetPort: 80, ...(nodePort === undefined ? {} : { nodePort }) },
  ];
  const services = [
    service({ namespace: "ns1", name: "svc1", clusterIP: "10.20.30.41", ports: p80() }),
    withSpec(
      service({
        namespace: "ns2",
        name: "svc2",
        type: "LoadBalancer",
        clusterIP: "10.20.30.42",
        ports: p80(3001),
        loadBalancerIPs: ["1.2.3.4"],
        externalTrafficPolicy: "Local",
      }),
      { externalIPs: ["1.2.3.4"], loadBalancerSourceRanges: ["1.2.3.0/28"], healthCheckNodePort: 30000 },
    ),
    service({
      namespace: "ns2b",
      name: "svc2b",
      type: "LoadBalancer",
      clusterIP: "10.20.30.43",
      ports: p80(3001),
      loadBalancerIPs: ["1.2.3.5"],
    }),
    service({ namespace: "ns3", name: "svc3", type: "NodePort", clusterIP: "10.20.30.43", ports: p80(3001) }),
    withSpec(service({ namespace: "ns4", name: "svc4", clusterIP: "10.20.30.44", ports: p80() }), {
      externalIPs: ["50.60.70.81"],
    }),
  ];
  const slice = (namespace: string, svc: string, ips: string[]) =>
    endpointSlice({
      namespace,
      service: svc,
      suffix: "1",
      ports: [{ name: "p80", port: 80 }],
      endpoints: ips.map((ip) => ({ ip })),
    });
  const slices = [
    slice("ns1", "svc1", ["10.180.0.1"]),
    slice("ns2", "svc2", ["10.180.0.2"]),
    slice("ns2b", "svc2b", ["10.180.0.3"]),
    slice("ns3", "svc3", ["10.180.0.3"]),
    slice("ns4", "svc4", ["10.180.0.5", "10.180.0.4"]),
  ];
  return { services: list(services), endpointslices: list(slices) };
}

/** `table chain` → the chain's rules in order, from iptables-save text. */
function chains(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1);
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (m === null) continue;
    const key = `${table} ${m[1]}`;
    out.set(key, [...(out.get(key) ?? []), m[2]!]);
  }
  return out;
}

const PER_SERVICE = /^nat KUBE-(SVC|SEP|FW|XLB)-/;
// Order carries no meaning in these (kube-proxy writes services in map order), except KUBE-SERVICES'
// last rule, compared apart.
const UNORDERED = [
  "nat KUBE-SERVICES",
  "nat KUBE-NODEPORTS",
  "filter KUBE-SERVICES",
  "filter KUBE-EXTERNAL-SERVICES",
];

describe.skipIf(skip)("renderKubeProxy() against kube-proxy v1.23's own test expectation", () => {
  const expected = skip ? new Map() : chains(readFileSync(join(KUBE_PROXY_FIXTURES, FIXTURE), "utf8"));
  const b = new DumpBuilder();
  renderKubeProxy(b, proxiedPorts(upstreamCluster()), { name: "test-node", clusterCIDR: "10.0.0.0/24" });
  const got = chains(b.print({ generator: "iptables-save v1.8.9", date: "d" }));

  it("writes the same per-service and per-endpoint chains, rule for rule and in order", () => {
    const names = (m: Map<string, string[]>) => [...m.keys()].filter((k) => PER_SERVICE.test(k)).sort();
    expect(names(got)).toEqual(names(expected));
    expect(names(got).length).toBeGreaterThan(10);
    for (const name of names(expected)) expect(got.get(name), name).toEqual(expected.get(name));
  });

  it("writes the same service entry, NodePort and reject rules", () => {
    for (const name of UNORDERED) {
      expect([...(got.get(name) ?? [])].sort(), name).toEqual([...(expected.get(name) ?? [])].sort());
    }
    expect(got.get("nat KUBE-SERVICES")?.at(-1)).toBe(expected.get("nat KUBE-SERVICES")?.at(-1));
  });
});

describe("savedProbability()", () => {
  it("prints 1/n as iptables-save does after the kernel's rounding (reference §3.10)", () => {
    expect([2, 3, 4, 5, 6, 7, 9, 10].map(savedProbability)).toEqual([
      "0.50000000000",
      "0.33333333349",
      "0.25000000000",
      "0.20000000019",
      "0.16666666651",
      "0.14285714272",
      "0.11111111101",
      "0.10000000009",
    ]);
  });
});
