import { describe, expect, it } from "vitest";
import { expectedServicePorts } from "../kube-proxy/expected-state.ts";
import { healthyCluster } from "../testing/demo-bundles.ts";
import { clusterOf } from "../testing/demo-cluster.ts";
import { incidentBundleSpec } from "./incident.ts";
import { endpointSlice, list, service } from "./k8s-objects.ts";
import { largeClusterSpec } from "./large-cluster.ts";
import { internalEndpoints, localEndpoints, proxiedPorts } from "./proxied-ports.ts";

type Json = Record<string, unknown>;

const svc = (
  namespace: string,
  name: string,
  ports: { name?: string; protocol?: string }[],
  extra: Json = {},
) => {
  const s = service({
    namespace,
    name,
    clusterIP: "10.43.0.50",
    ports: ports.map((p) => ({ ...p, port: 80, targetPort: 80 })),
  });
  return { ...s, spec: { ...(s.spec as Json), ...extra } };
};

describe("proxiedPorts()", () => {
  it("names chains as kube-proxy does (well-known names of the reference §2.3)", () => {
    const ports = proxiedPorts({
      services: list([
        svc("default", "kubernetes", [{ name: "https" }]),
        svc("kube-system", "kube-dns", [{ name: "dns", protocol: "UDP" }, { name: "dns-tcp" }]),
        svc("ns1", "svc1", [{}]),
      ]),
      endpointslices: list([
        endpointSlice({
          namespace: "default",
          service: "kubernetes",
          suffix: "",
          ports: [{ name: "https", port: 6443 }],
          endpoints: [{ ip: "192.168.1.105" }],
        }),
      ]),
    });
    expect(ports.map((p) => [p.svcPortName, p.chains.SVC])).toEqual([
      ["default/kubernetes:https", "KUBE-SVC-NPX46M4PTMTKRN6Y"],
      ["kube-system/kube-dns:dns", "KUBE-SVC-TCOU7JCQXEZGVUNU"],
      ["kube-system/kube-dns:dns-tcp", "KUBE-SVC-ERIFXISQEP7F7OF4"],
      ["ns1/svc1", "KUBE-SVC-AQI2S6QIMU7PVVRP"],
    ]);
    expect(ports[0]!.endpoints.map((e) => e.sepChain)).toEqual(["KUBE-SEP-B5VO6EBO7JWDMZQ2"]);
  });

  it("skips what kube-proxy ignores: headless, ExternalName, another proxy's Services, unknown protocols", () => {
    const ports = proxiedPorts({
      services: list([
        svc("ns", "headless", [{ name: "a" }], { clusterIP: "None" }),
        svc("ns", "ext", [{ name: "a" }], { type: "ExternalName", externalName: "example.org" }),
        {
          ...svc("ns", "other", [{ name: "a" }]),
          metadata: {
            name: "other",
            namespace: "ns",
            labels: { "service.kubernetes.io/service-proxy-name": "x" },
          },
        },
        svc("ns", "kept", [
          { name: "icmp", protocol: "ICMP" },
          { name: "sctp", protocol: "SCTP" },
        ]),
      ]),
      endpointslices: list([]),
    });
    expect(ports.map((p) => `${p.svcPortName}/${p.protocol}`)).toEqual(["ns/kept:sctp/sctp"]);
  });

  it("sorts endpoints by the string ip:port, drops duplicates across slices, takes the slice's port", () => {
    const slice = (suffix: string, ips: string[]) =>
      endpointSlice({
        namespace: "ns",
        service: "web",
        suffix,
        ports: [{ name: "http", port: 8080 }],
        endpoints: ips.map((ip) => ({ ip })),
      });
    const [port] = proxiedPorts({
      services: list([svc("ns", "web", [{ name: "http" }])]),
      endpointslices: list([slice("a", ["10.0.0.2", "10.0.0.10"]), slice("b", ["10.0.0.2", "9.0.0.1"])]),
    });
    expect(port!.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual([
      "10.0.0.10:8080",
      "10.0.0.2:8080",
      "9.0.0.1:8080",
    ]);
  });

  it("falls back to serving-terminating endpoints and keeps a node's own for the Local sets", () => {
    const s = endpointSlice({
      namespace: "ns",
      service: "web",
      suffix: "a",
      ports: [{ name: "http", port: 8080 }],
      endpoints: [
        { ip: "10.0.0.1", node: "n1", ready: false },
        { ip: "10.0.0.2", node: "n2", ready: false },
        { ip: "10.0.0.3", node: "n2", ready: false },
      ],
    });
    const eps = s.endpoints as { conditions: Json }[];
    eps[0]!.conditions = { ready: false, serving: true, terminating: true };
    eps[1]!.conditions = { ready: false, serving: false, terminating: true };
    const [port] = proxiedPorts({
      services: list([svc("ns", "web", [{ name: "http" }], { internalTrafficPolicy: "Local" })]),
      endpointslices: list([s]),
    });
    expect(port!.clusterEndpoints.map((e) => e.ip)).toEqual(["10.0.0.1"]);
    expect(localEndpoints(port!.endpoints, "n2")).toEqual([]);
    expect(internalEndpoints(port!, "n1").map((e) => e.ip)).toEqual(["10.0.0.1"]);
    expect(internalEndpoints(port!, "n3")).toEqual([]);
  });
});

describe("proxiedPorts() and src/kube-proxy/expected-state.ts", () => {
  // Two independent readings of the same rules must agree on the demo's clusters (each is also
  // judged on its own against kube-proxy's output: render-kube-proxy.test.ts, expected-state.test.ts).
  const specs = {
    incident: incidentBundleSpec(),
    healthy: healthyCluster(),
    large: largeClusterSpec({ nodes: 5, services: 40, endpoints: 200 }),
  };
  for (const [name, spec] of Object.entries(specs)) {
    it(`agree on every port, endpoint and chain of the ${name} cluster`, () => {
      const mine = proxiedPorts(spec.api);
      const theirs = expectedServicePorts(clusterOf(spec.api));
      expect(mine.length).toBeGreaterThan(10);
      expect(mine).toEqual(
        theirs.map((p) => ({
          svcPortName: p.svcPortName,
          protocol: p.protocol,
          port: p.port,
          ...(p.clusterIP === undefined ? {} : { clusterIP: p.clusterIP }),
          ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }),
          externalIPs: p.externalIPs,
          loadBalancerIPs: p.loadBalancerIPs,
          loadBalancerSourceRanges: p.loadBalancerSourceRanges,
          internalLocal: p.internalLocal,
          externalLocal: p.externalLocal,
          sessionAffinity: p.sessionAffinity,
          chains: { SVC: p.chains.SVC, XLB: p.chains.XLB, FW: p.chains.FW },
          endpoints: p.endpoints.map(pick),
          clusterEndpoints: p.clusterEndpoints.map(pick),
        })),
      );
    });
  }
});

function pick(e: ReturnType<typeof expectedServicePorts>[number]["endpoints"][number]) {
  return {
    ip: e.ip,
    port: e.port,
    ...(e.nodeName === undefined ? {} : { nodeName: e.nodeName }),
    ready: e.ready,
    serving: e.serving,
    terminating: e.terminating,
    sepChain: e.sepChain,
  };
}
