import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { KubeApi } from "../collect/kube-api.ts";
import { endpointChain, serviceChain, servicePortName } from "../kube-proxy/chain-names.ts";
import { parseMetricsText } from "../testing/metrics-text.ts";
import { startExporter } from "./exporter.ts";

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
      // Two Services and two slices, one per page, plus the node: five requests a comparison.
      expect(requests).toBeGreaterThanOrEqual(5);

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
