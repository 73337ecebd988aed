import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { KubeApi } from "../collect/kube-api.ts";
import { endpointChain, serviceChain, servicePortName } from "../kube-proxy/chain-names.ts";
import { FakeKubeApi } from "../testing/fake-kube-api.ts";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { parseMetricsText } from "../testing/metrics-text.ts";
import { startExporter } from "./exporter.ts";
import { ExporterMetrics } from "./exporter-metrics.ts";
import { ServiceRulesChecker } from "./service-rules.ts";

/**
 * The API comparison against a fake API server on loopback: Service `web` has a stale endpoint
 * on the node (and lacks its ready one), Service `db` has no rules at all.
 */
const WEB = servicePortName("default", "web", "http");
const dump = [
  "*nat",
  ":PREROUTING ACCEPT [0:0]",
  ":KUBE-SERVICES - [0:0]",
  `:${serviceChain("SVC", WEB, "tcp")} - [0:0]`,
  `:${endpointChain(WEB, "tcp", "10.42.0.9", 8080)} - [0:0]`,
  "-A PREROUTING -j KUBE-SERVICES",
  `-A KUBE-SERVICES -d 10.43.0.10/32 -p tcp -m comment --comment "${WEB} cluster IP" -m tcp --dport 80 -j ${serviceChain("SVC", WEB, "tcp")}`,
  `-A ${serviceChain("SVC", WEB, "tcp")} -j ${endpointChain(WEB, "tcp", "10.42.0.9", 8080)}`,
  `-A ${endpointChain(WEB, "tcp", "10.42.0.9", 8080)} -p tcp -m tcp -j DNAT --to-destination 10.42.0.9:8080`,
  "COMMIT",
  "",
].join("\n");

function service(name: string, ip: string, port: number, portName?: string): object {
  return {
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: {
      type: "ClusterIP",
      clusterIP: ip,
      clusterIPs: [ip],
      ports: [
        { ...(portName === undefined ? {} : { name: portName }), protocol: "TCP", port, targetPort: 8080 },
      ],
    },
  };
}

function slice(svc: string, ip: string, portName?: string): object {
  return {
    metadata: {
      name: `${svc}-abc`,
      namespace: "default",
      uid: `uid-${svc}-slice`,
      labels: { "kubernetes.io/service-name": svc },
    },
    addressType: "IPv4",
    ports: [{ ...(portName === undefined ? {} : { name: portName }), port: 8080, protocol: "TCP" }],
    endpoints: [
      {
        addresses: [ip],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "agent-2",
      },
    ],
  };
}

const LISTS: Record<string, object[]> = {
  "/api/v1/services": [service("web", "10.43.0.10", 80, "http"), service("db", "10.43.0.20", 5432)],
  "/apis/discovery.k8s.io/v1/endpointslices": [slice("web", "10.42.0.5", "http"), slice("db", "10.42.0.7")],
  "/api/v1/nodes": [{ metadata: { name: "agent-1", uid: "n1" }, status: { addresses: [] } }],
};

let server: Server;
let apiUp = true;
let requests = 0;
let client: KubeApi;
const dir = mkdtempSync(join(tmpdir(), "nd-exporter-api-"));

beforeAll(async () => {
  writeFileSync(join(dir, "dump.txt"), dump);
  server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? "/", "http://x");
    if (apiUp && url.pathname === "/apis/discovery.k8s.io") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "APIGroup",
          name: "discovery.k8s.io",
          versions: [{ groupVersion: "discovery.k8s.io/v1", version: "v1" }],
        }),
      );
      return;
    }
    const items = LISTS[url.pathname];
    if (!apiUp || items === undefined) {
      res.writeHead(apiUp ? 404 : 503, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ kind: "Status", message: apiUp ? "not found" : "etcdserver: request timed out" }),
      );
      return;
    }
    // One item per page, so the client must follow `continue` tokens.
    const at = Number(url.searchParams.get("continue") ?? "0");
    const next = at + 1 < items.length ? String(at + 1) : undefined;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        kind: "List",
        items: items.slice(at, at + 1),
        metadata: next ? { continue: next } : {},
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // The client library allows plain http only with skipTLSVerify.
    clusters: [
      {
        name: "fake",
        server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u" }],
    contexts: [{ name: "fake", cluster: "fake", user: "u" }],
    currentContext: "fake",
  });
  client = new KubeApi(kc);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

describe("exporter with API access", () => {
  test("publishes how many Service ports are stale and missing on the node, and survives API errors", async () => {
    const logs: string[] = [];
    const e = await startExporter({
      host: "127.0.0.1",
      port: 0,
      node: "agent-1",
      commands: { save: `cat '${join(dir, "dump.txt")}'` },
      intervalMs: 50,
      timeoutMs: 5000,
      processMetrics: false,
      api: { client, everyMs: 0 },
      log: (l) => logs.push(l),
    });
    try {
      // `samples` counts a sample once its API comparison is done too.
      await until("a sample", () => e.sampler.stats.samples > 0);
      // At a 50 ms interval the next save may already have succeeded while its comparison still runs.
      expect(e.sampler.stats.successes).toBeGreaterThanOrEqual(1);
      let values = parseMetricsText(await e.metrics.serialize());
      expect(values.get('netdoctor_service_rules_stale{node="agent-1"}')).toBe(1);
      expect(values.get('netdoctor_service_rules_missing{node="agent-1"}')).toBe(2);
      expect(values.get('netdoctor_api_errors_total{node="agent-1"}')).toBe(0);
      // API discovery, two Services and two slices, one per page, plus the node: six requests for the first comparison.
      expect(requests).toBeGreaterThanOrEqual(6);

      apiUp = false;
      const done = e.sampler.stats.samples;
      await until("two more samples", () => e.sampler.stats.samples >= done + 2);
      values = parseMetricsText(await e.metrics.serialize());
      expect(values.get('netdoctor_api_errors_total{node="agent-1"}')).toBeGreaterThanOrEqual(1);
      expect(values.get('netdoctor_service_rules_stale{node="agent-1"}')).toBe(1);
      expect(logs.filter((l) => l.includes("etcdserver: request timed out"))).toHaveLength(1);
    } finally {
      apiUp = true;
      await e.close();
    }
  });

  test("without API access the Service-rule metrics are not exported at all", async () => {
    const e = await startExporter({
      host: "127.0.0.1",
      port: 0,
      node: "agent-1",
      commands: { save: `cat '${join(dir, "dump.txt")}'` },
      intervalMs: 1000,
      timeoutMs: 5000,
      processMetrics: false,
      log: () => {},
    });
    try {
      expect(await e.metrics.serialize()).not.toMatch(/netdoctor_service_rules|netdoctor_api_errors/);
    } finally {
      await e.close();
    }
  });
});

/** `web`'s endpoint 10.42.0.5 and `db`'s 10.42.0.7, both ready on agent-2, as each API version writes them. */
const ENDPOINT_OBJECTS = {
  // discovery.k8s.io/v1beta1 (v1.17-v1.24): the node as a topology label, no nodeName field.
  v1beta1: [slice("web", "10.42.0.5", "http"), slice("db", "10.42.0.7")].map((o) => {
    const { endpoints, ...rest } = o as { endpoints: { nodeName: string }[] };
    return {
      ...rest,
      endpoints: endpoints.map(({ nodeName, ...e }) => ({
        ...e,
        topology: { "kubernetes.io/hostname": nodeName },
      })),
    };
  }),
  // core v1 Endpoints, all a cluster before v1.17 has.
  endpoints: [
    ["web", "10.42.0.5", "http"],
    ["db", "10.42.0.7", undefined],
  ].map(([name, ip, portName]) => ({
    metadata: { name, namespace: "default", uid: `uid-${name}-ep` },
    subsets: [
      {
        addresses: [{ ip, nodeName: "agent-2" }],
        ports: [{ ...(portName === undefined ? {} : { name: portName }), port: 8080, protocol: "TCP" }],
      },
    ],
  })),
};

describe("ServiceRulesChecker on clusters of every endpoint API", () => {
  const index = indexDumpText(dump);

  test.each([
    [
      "discovery.k8s.io/v1 (v1.21+)",
      ["v1"],
      { endpointslices: [slice("web", "10.42.0.5", "http"), slice("db", "10.42.0.7")] },
    ],
    [
      "discovery.k8s.io/v1beta1 only (v1.17-v1.20)",
      ["v1beta1"],
      { endpointslices: ENDPOINT_OBJECTS.v1beta1, endpoints: ENDPOINT_OBJECTS.endpoints },
    ],
    ["no EndpointSlices (before v1.17)", [], { endpoints: ENDPOINT_OBJECTS.endpoints }],
  ] as const)(
    "check() on an API serving %s finds web stale and both Services' endpoints missing",
    async (_what, versions, objects) => {
      const api = new FakeKubeApi({
        nodes: [{ name: "agent-1" }],
        services: LISTS["/api/v1/services"]!,
        discoveryVersions: versions,
        ...objects,
      });
      await api.start();
      const work = mkdtempSync(join(tmpdir(), "nd-service-rules-"));
      try {
        const logs: string[] = [];
        const metrics = new ExporterMetrics({ node: "agent-1", serviceRules: true, processMetrics: false });
        const checker = new ServiceRulesChecker({
          api: KubeApi.load({ kubeconfig: api.writeKubeconfig(work) }),
          node: "agent-1",
          everyMs: 0,
          timeoutMs: 10_000,
          metrics,
          log: (l) => logs.push(l),
        });
        expect(await checker.check(index)).toEqual({ stale: 1, missing: 2 });
        expect(await checker.check(index)).toEqual({ stale: 1, missing: 2 });
        // Discovery once; the lists of the served versions only.
        expect(api.requests.filter((r) => r === "GET /apis/discovery.k8s.io")).toHaveLength(1);
        const listed = new Set(api.requests.map((r) => r.split("?")[0]));
        const v = versions[0];
        expect(listed.has("GET /apis/discovery.k8s.io/v1/endpointslices")).toBe(v === "v1");
        expect(listed.has("GET /apis/discovery.k8s.io/v1beta1/endpointslices")).toBe(v === "v1beta1");
        expect(listed.has("GET /api/v1/endpoints")).toBe(v !== "v1");
        expect(logs.filter((l) => l.includes("the API serves"))).toHaveLength(v === "v1" ? 0 : 1);
      } finally {
        await api.close();
        rmSync(work, { recursive: true, force: true });
      }
    },
  );
});
