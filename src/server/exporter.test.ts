import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { parseMetricsText } from "../testing/metrics-text.ts";
import { syntheticDump, syntheticRuleCount } from "../testing/synthetic-dump.ts";
import { type Exporter, startExporter } from "./exporter.ts";
import { ExporterMetrics } from "./exporter-metrics.ts";
import { Sampler } from "./sampler.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-exporter-test-"));
const dumpFile = join(dir, "dump.txt");
const DUMP = { rules: 700, duplicates: 20, version: "1.8.2" } as const;
const counts = syntheticRuleCount(DUMP);
const VERSION_CMD = "echo 'iptables v1.8.2 (nf_tables)'";

beforeAll(() => {
  writeFileSync(dumpFile, [...syntheticDump(DUMP)].join(""));
  // Fails while $dir/fail exists, like iptables-save without CAP_NET_ADMIN.
  writeFileSync(
    join(dir, "save.sh"),
    `if [ -e '${dir}/fail' ]; then echo 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)' >&2; exit 1; fi\ncat '${dumpFile}'\n`,
  );
  // Takes 300 ms and records any overlap: mkdir is atomic, so a second concurrent run cannot take the lock.
  writeFileSync(
    join(dir, "slow.sh"),
    `mkdir '${dir}/lock' 2>/dev/null || echo overlap >> '${dir}/overlaps'\nsleep 0.3\ncat '${dumpFile}'\nrmdir '${dir}/lock'\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: Exporter[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

async function start(
  save: string,
  options: { intervalMs?: number; timeoutMs?: number; version?: boolean } = {},
): Promise<Exporter> {
  const e = await startExporter({
    host: "127.0.0.1",
    port: 0,
    node: "agent-1",
    commands: options.version === false ? { save } : { save, version: VERSION_CMD },
    intervalMs: options.intervalMs ?? 100,
    timeoutMs: options.timeoutMs ?? 10_000,
    log: () => {},
  });
  open.push(e);
  return e;
}

async function scrape(e: Exporter): Promise<{ text: string; values: Map<string, number> }> {
  const res = await fetch(`${e.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, values: parseMetricsText(text) };
}

/**
 * Waits until `ok` holds: a fixed point, not a time. A condition that never comes is a bug the test
 * runner's own timeout reports; a busy machine only makes the wait longer.
 */
async function until(_what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ok())) await new Promise((r) => setTimeout(r, 25));
}

const key = (name: string, labels: Record<string, string> = {}) =>
  parseMetricsText(
    `${name}{${Object.entries({ ...labels, node: "agent-1" })
      .map(([k, v]) => `${k}="${v}"`)
      .join(",")}} 0\n`,
  )
    .keys()
    .next().value as string;

describe("exporter /metrics", () => {
  test("serves the dump's counts, owners, version and known bug with a node label", async () => {
    const e = await start(`cat '${dumpFile}'`);
    await until("the first sample", () => e.sampler.stats.successes > 0);
    const { values } = await scrape(e);
    expect(values.get(key("netdoctor_iptables_rules", { table: "nat" }))).toBe(counts.nat);
    expect(values.get(key("netdoctor_iptables_rules", { table: "filter" }))).toBe(counts.filter);
    expect(values.get(key("netdoctor_iptables_rules", { table: "raw" }))).toBe(0);
    expect(values.get(key("netdoctor_iptables_duplicate_rules", { owner: "kube-router" }))).toBe(
      DUMP.duplicates,
    );
    expect(values.get(key("netdoctor_iptables_duplicate_rules", { owner: "calico" }))).toBe(0);
    expect(values.get(key("netdoctor_iptables_info", { version: "1.8.2", backend: "nf_tables" }))).toBe(1);
    expect(values.get(key("netdoctor_iptables_known_bug", { id: "k3s-3117" }))).toBe(1);
    expect(values.get(key("netdoctor_iptables_known_bug", { id: "mixed-backends" }))).toBe(0);
    expect(values.get(key("netdoctor_iptables_mixed_backends"))).toBe(0);
    expect(values.get(key("netdoctor_iptables_save_errors_total", { reason: "timeout" }))).toBe(0);
    expect(values.get(key("netdoctor_iptables_last_success_timestamp_seconds"))).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    expect(values.get(key("netdoctor_iptables_save_duration_seconds"))).toBeGreaterThan(0);
  });

  test("keeps every label value from a closed list (no per-rule, per-chain or per-service label)", async () => {
    const e = await start(`cat '${dumpFile}'`);
    await until("the first sample", () => e.sampler.stats.successes > 0);
    const { values } = await scrape(e);
    const labelNames = new Set<string>();
    for (const k of values.keys()) for (const m of k.matchAll(/(\w+)="/g)) labelNames.add(m[1]!);
    expect([...labelNames].sort()).toEqual(["backend", "id", "node", "owner", "reason", "table", "version"]);
    expect([...values.keys()].filter((k) => k.startsWith("netdoctor_")).length).toBeLessThan(60);
  });

  const noPromtool = skipBecause(commandUnavailable("promtool"), "promtool check metrics");
  test.skipIf(noPromtool)("passes `promtool check metrics`", async () => {
    const e = await start(`cat '${dumpFile}'`);
    await until("the first sample", () => e.sampler.stats.successes > 0);
    const { text } = await scrape(e);
    // promtool prints lint problems and exits non-zero on any; execFileSync throws then.
    const out = execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(out).toBe("");
  });

  test("serves /healthz and 404 elsewhere", async () => {
    const e = await start(`cat '${dumpFile}'`);
    expect((await fetch(`${e.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${e.url}/nope`)).status).toBe(404);
  });
});

describe("exporter under failure and load", () => {
  test("a failing save is counted, never crashes, and the last good values stay with their timestamp", async () => {
    const e = await start(`sh '${dir}/save.sh'`, { intervalMs: 50 });
    await until("the first sample", () => e.sampler.stats.successes > 0);
    writeFileSync(join(dir, "fail"), "");
    let before: Map<string, number>;
    try {
      // Samples run one after another: once one has failed, no later one can succeed.
      const failuresAtStart = e.sampler.stats.failures;
      await until("a failed save", () => e.sampler.stats.failures > failuresAtStart);
      before = (await scrape(e)).values;
      await until("three more failed saves", () => e.sampler.stats.failures >= failuresAtStart + 4);
      const during = (await scrape(e)).values;
      expect(
        during.get(key("netdoctor_iptables_save_errors_total", { reason: "exit-code" })),
      ).toBeGreaterThanOrEqual(4);
      expect(during.get(key("netdoctor_iptables_rules", { table: "nat" }))).toBe(counts.nat);
      expect(during.get(key("netdoctor_iptables_known_bug", { id: "k3s-3117" }))).toBe(1);
      expect(during.get(key("netdoctor_iptables_last_success_timestamp_seconds"))).toBe(
        before.get(key("netdoctor_iptables_last_success_timestamp_seconds")),
      );
      expect((await fetch(`${e.url}/healthz`)).status).toBe(200);
    } finally {
      rmSync(join(dir, "fail"), { force: true });
    }
    const ok = e.sampler.stats.successes;
    await until("recovery", () => e.sampler.stats.successes > ok);
    const after = (await scrape(e)).values;
    expect(after.get(key("netdoctor_iptables_last_success_timestamp_seconds"))).toBeGreaterThan(
      before.get(key("netdoctor_iptables_last_success_timestamp_seconds"))!,
    );
  });

  test("an exception in netdoctor's own analysis counts as a parse error and sampling goes on", async () => {
    class FlakyMetrics extends ExporterMetrics {
      calls = 0;
      override publish(...args: Parameters<ExporterMetrics["publish"]>): void {
        if (this.calls++ === 0) throw new TypeError("boom");
        super.publish(...args);
      }
    }
    const metrics = new FlakyMetrics({ processMetrics: false });
    const logs: string[] = [];
    const sampler = new Sampler({
      node: "n",
      commands: { save: `cat '${dumpFile}'` },
      intervalMs: 60_000,
      timeoutMs: 10_000,
      metrics,
      log: (l) => logs.push(l),
    });
    expect(await sampler.sample()).toMatchObject({ ok: false, reason: "parse-error" });
    expect(logs[0]).toMatch(/^netdoctor exporter: internal error: TypeError: boom/);
    expect(await sampler.sample()).toMatchObject({ ok: true });
    const values = parseMetricsText(await metrics.serialize());
    expect(values.get('netdoctor_iptables_save_errors_total{reason="parse-error"}')).toBe(1);
    expect(values.get('netdoctor_iptables_rules{table="nat"}')).toBe(counts.nat);
  });

  test("before the first good save it publishes no value it did not measure; sample_ok says why", async () => {
    const e = await start("sleep 5", { intervalMs: 50, timeoutMs: 100 });
    await until("two timeouts", () => e.sampler.stats.failures >= 2);
    const { values } = await scrape(e);
    expect(
      values.get(key("netdoctor_iptables_save_errors_total", { reason: "timeout" })),
    ).toBeGreaterThanOrEqual(2);
    expect(values.get(key("netdoctor_iptables_save_errors_total", { reason: "exit-code" }))).toBe(0);
    expect(values.get(key("netdoctor_iptables_sample_ok"))).toBe(0);
    // No rule, chain, duplicate, version, known-bug, duration or timestamp series at all: a
    // restarted exporter must not tell Prometheus that the node has 0 rules.
    const unmeasured = [...values.keys()].filter((k) =>
      /^netdoctor_(iptables_(rules|chains|duplicate_rules|info|mixed_backends|known_bug|save_duration_seconds|last_success_timestamp_seconds)|service_rules)/.test(
        k,
      ),
    );
    expect(unmeasured).toEqual([]);
  });

  test("sample_ok is 1 after a good save, 0 after a failed one, and the values appear with the first good save", async () => {
    writeFileSync(join(dir, "fail"), "");
    let e: Exporter;
    try {
      e = await start(`sh '${dir}/save.sh'`, { intervalMs: 50 });
      await until("a failed save", () => e.sampler.stats.failures > 0);
      const failing = (await scrape(e)).values;
      expect(failing.get(key("netdoctor_iptables_sample_ok"))).toBe(0);
      expect(failing.get(key("netdoctor_iptables_rules", { table: "nat" }))).toBeUndefined();
    } finally {
      rmSync(join(dir, "fail"), { force: true });
    }
    await until("a good save", () => e.sampler.stats.successes > 0);
    const { values } = await scrape(e);
    expect(values.get(key("netdoctor_iptables_sample_ok"))).toBe(1);
    expect(values.get(key("netdoctor_iptables_rules", { table: "nat" }))).toBe(counts.nat);
    expect(values.get(key("netdoctor_iptables_rules", { table: "security" }))).toBe(0);
    expect(values.get(key("netdoctor_iptables_duplicate_rules", { owner: "calico" }))).toBe(0);
  });

  test("runs one save at a time: ticks during a slow save are skipped and counted", async () => {
    const e = await start(`sh '${dir}/slow.sh'`, { intervalMs: 20 });
    await until("four slow samples", () => e.sampler.stats.samples >= 4);
    await e.close();
    expect(existsSync(join(dir, "overlaps"))).toBe(false);
    expect(e.sampler.stats.skipped).toBeGreaterThan(4);
    const { values } = await scrape2(e);
    expect(values.get(key("netdoctor_iptables_save_skipped_total"))).toBe(e.sampler.stats.skipped);
  });

  test("heap stays flat over 1,000 intervals", async () => {
    // In a process of its own: the test runner's allocations would drown a slow leak. It ends when
    // its 1,200 samples are done (each spawns a shell: seconds when idle, minutes on a loaded
    // machine); the test's own limit only guards against a hang.
    const out = execFileSync(
      process.execPath,
      [
        "--expose-gc",
        "--import",
        "tsx",
        join(import.meta.dirname, "exporter-heap-probe.ts"),
        dumpFile,
        "200",
        "1000",
        "1100",
        "1200",
      ],
      { encoding: "utf8" },
    );
    const { heap, samples, failures } = JSON.parse(out) as {
      heap: Record<string, number>;
      samples: number;
      failures: number;
    };
    if (process.env.ND_DEBUG) console.log(heap);
    expect(failures).toBe(0);
    expect(samples).toBeGreaterThanOrEqual(1200);
    // V8 moves a few hundred KB up or down in steps; a leak grows every sample, so the lowest of the
    // late figures is compared. 512 KB over 800 samples catches a leak of 640 bytes per sample.
    const late = Math.min(heap[1000]!, heap[1100]!, heap[1200]!);
    expect(late - heap[200]!).toBeLessThan(512 * 1024);
  }, 1_800_000);
});

/** Serializes a closed exporter's registry directly (its HTTP server is gone). */
async function scrape2(e: Exporter): Promise<{ values: Map<string, number> }> {
  return { values: parseMetricsText(await e.metrics.serialize()) };
}
