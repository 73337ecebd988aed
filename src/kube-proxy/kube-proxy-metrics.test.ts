import { Counter, Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { formatDuration, kubeProxyHealth } from "./kube-proxy-health.ts";
import { KUBE_PROXY_METRIC, metricValue, parseKubeProxyMetrics } from "./kube-proxy-metrics.ts";

/** The exposition text a Prometheus client library (not netdoctor) writes for kube-proxy's sync metrics. */
async function exposition(values: { sync: number; queued: number; failures: number; family?: boolean }) {
  const registry = new Registry();
  const labelNames = values.family === true ? ["ip_family"] : [];
  const sync = new Gauge({
    name: KUBE_PROXY_METRIC.lastSync,
    help: "[ALPHA] The last time proxy rules were successfully synced",
    labelNames,
    registers: [registry],
  });
  const queued = new Gauge({
    name: KUBE_PROXY_METRIC.lastQueued,
    help: "[ALPHA] The last time a sync of proxy rules was queued",
    labelNames,
    registers: [registry],
  });
  const failures = new Counter({
    name: KUBE_PROXY_METRIC.restoreFailures,
    help: "[ALPHA] Cumulative proxy iptables restore failures",
    labelNames,
    registers: [registry],
  });
  if (values.family === true) {
    sync.set({ ip_family: "IPv6" }, 1);
    sync.set({ ip_family: "IPv4" }, values.sync);
    queued.set({ ip_family: "IPv4" }, values.queued);
    failures.inc({ ip_family: "IPv4" }, values.failures);
  } else {
    sync.set(values.sync);
    queued.set(values.queued);
    failures.inc(values.failures);
  }
  return registry.metrics();
}

describe("parseKubeProxyMetrics()", () => {
  it("reads the sync gauges and the restore-failure counter as a client library prints them", async () => {
    const m = parseKubeProxyMetrics(
      await exposition({ sync: 1733481600.25, queued: 1733481601, failures: 3 }),
      "nodes/n1/kube-proxy-metrics.txt",
    );
    expect(metricValue(m, KUBE_PROXY_METRIC.lastSync)).toBe(1733481600.25);
    expect(metricValue(m, KUBE_PROXY_METRIC.lastQueued)).toBe(1733481601);
    expect(metricValue(m, KUBE_PROXY_METRIC.restoreFailures)).toBe(3);
    expect(m.skipped).toEqual([]);
  });

  it("takes the IPv4 series of metrics labelled by ip_family (kube-proxy v1.28+)", async () => {
    const m = parseKubeProxyMetrics(
      await exposition({ sync: 1700000000, queued: 1700000000, failures: 0, family: true }),
      "m.txt",
    );
    expect(metricValue(m, KUBE_PROXY_METRIC.lastSync)).toBe(1700000000);
  });

  it("reads exponents, NaN, escaped label values and a trailing timestamp; lists garbage and notes", () => {
    const text = [
      "# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy rules were successfully synced",
      "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge",
      "kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7334816e+09",
      'rest_client_requests_total{code="200",host="[::1]:6443",method="GET",note="a \\"q\\" \\\\ b"} 12 1733481600000',
      "process_cpu_seconds_total NaN",
      "kubeproxy_sync_proxy_rules_endpoint_changes_pending {",
      "# netdoctor: kube-proxy did not answer on 127.0.0.1:10249 (curl exit 7)",
      "",
    ].join("\n");
    const m = parseKubeProxyMetrics(text, "m.txt");
    expect(metricValue(m, KUBE_PROXY_METRIC.lastSync)).toBe(1733481600);
    expect(m.samples.get("rest_client_requests_total")?.[0]?.labels).toEqual({
      code: "200",
      host: "[::1]:6443",
      method: "GET",
      note: 'a "q" \\ b',
    });
    expect(Number.isNaN(metricValue(m, "process_cpu_seconds_total"))).toBe(true);
    expect(m.skipped.map((s) => s.line)).toEqual([6]);
    expect(m.notes).toEqual([
      { line: 7, text: "# netdoctor: kube-proxy did not answer on 127.0.0.1:10249 (curl exit 7)" },
    ]);
  });
});

describe("formatDuration()", () => {
  it("uses the largest unit that keeps two digits of meaning", () => {
    expect([0, 1, 119, 120, 3599, 7200, 86400 * 3].map(formatDuration)).toEqual([
      "0 seconds",
      "1 second",
      "119 seconds",
      "2 minutes",
      "60 minutes",
      "2 hours",
      "3 days",
    ]);
  });
});

describe("kubeProxyHealth()", () => {
  const collectedAt = Date.parse("2026-12-06T11:40:49Z");
  const at = (iso: string) => Date.parse(iso) / 1000;

  it("says how long before collection kube-proxy last synced, its restore failures and a waiting sync", async () => {
    const text = await exposition({
      sync: at("2026-12-06T11:33:49Z"),
      queued: at("2026-12-06T11:34:49Z"),
      failures: 2,
    });
    const h = kubeProxyHealth("node2", {
      metrics: parseKubeProxyMetrics(text, "nodes/node2/kube-proxy-metrics.txt"),
      collectedAt,
    });
    expect(h?.summary).toBe(
      'kube-proxy on "node2" last synced 7 minutes ago (at collection), 2 restore failures, a sync queued 6 minutes before collection has not run',
    );
    expect(h?.syncAgeSeconds).toBe(420);
    expect(h?.evidence.map((e) => e.file)).toEqual([
      "nodes/node2/kube-proxy-metrics.txt",
      "nodes/node2/kube-proxy-metrics.txt",
      "nodes/node2/kube-proxy-metrics.txt",
    ]);
  });

  it("gives the sync time itself when the collection time is unknown, and says when kube-proxy did not answer", async () => {
    const text = await exposition({ sync: at("2026-12-06T11:33:49Z"), queued: 0, failures: 0 });
    expect(kubeProxyHealth("n", { metrics: parseKubeProxyMetrics(text, "m") })?.summary).toBe(
      'kube-proxy on "n" last synced at 2026-12-06T11:33:49.000Z, 0 restore failures',
    );
    const silent = parseKubeProxyMetrics("# netdoctor: no answer on 127.0.0.1:10249 (curl exit 7)\n", "m");
    expect(kubeProxyHealth("n", { metrics: silent, collectedAt })?.summary).toBe(
      'kube-proxy on "n" gave no metrics (no answer on 127.0.0.1:10249 (curl exit 7))',
    );
  });

  it("has nothing to say without metrics or canary evidence", () => {
    expect(kubeProxyHealth("n", { collectedAt })).toBeUndefined();
  });
});
