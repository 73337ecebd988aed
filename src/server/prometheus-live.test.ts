import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { syntheticDump, syntheticRuleCount } from "../testing/synthetic-dump.ts";

/**
 * The real thing end to end: the `netdoctor exporter` command on loopback with a generated dump as
 * its "iptables-save", and Debian's Prometheus scraping it every second with the alert rules
 * loaded; the test reads what Prometheus stored through its HTTP API.
 */
const skip = skipBecause(commandUnavailable("prometheus"), "live Prometheus scrape test");

const DUMP = { rules: 3500, duplicates: 30, version: "1.8.2" } as const;
const counts = syntheticRuleCount(DUMP);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Guards against a hang only: every wait below is for a fixed point, however long a busy machine takes. */
const HANG_GUARD_MS = 600_000;

describe.skipIf(skip)("exporter scraped by a real Prometheus", { timeout: HANG_GUARD_MS }, () => {
  let dir = "";
  let exporter: ChildProcess | undefined;
  let exporter2: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let exporterLog = "";
  let prometheusLog = "";
  let api = "";

  /** Starts `netdoctor exporter` as node `node`; its saves fail while `dir/failFile` exists. */
  async function startExporterProcess(
    node: string,
    failFile: string,
  ): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(process.cwd(), "src/cli/main.ts"),
        "exporter",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "500ms",
        "--node",
        node,
        "--save-command",
        `sh '${dir}/save.sh' ${failFile}`,
        "--version-command",
        "echo 'iptables v1.8.2 (nf_tables)'",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr!.setEncoding("utf8");
    // Waits for the line that says where it serves: a fixed point, however slow the start.
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on("data", (chunk: string) => {
        exporterLog += chunk;
        const m = new RegExp(`node "${node}", serving (http://[^ ]+)/metrics`).exec(exporterLog);
        if (m !== null) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`The exporter exited with ${code}:\n${exporterLog}`)));
    });
    return { child, url };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nd-exporter-prom-"));
    writeFileSync(join(dir, "dump.txt"), [...syntheticDump(DUMP)].join(""));
    writeFileSync(
      join(dir, "save.sh"),
      `if [ -e "${dir}/$1" ]; then echo 'iptables-save: Another app is currently holding the xtables lock' >&2; exit 4; fi\ncat '${dir}/dump.txt'\n`,
    );
    const started = await startExporterProcess("live-1", "fail");
    exporter = started.child;
    // live-2's saves fail from its start until the test removes fail2: the "restart" case.
    writeFileSync(join(dir, "fail2"), "");
    const second = await startExporterProcess("live-2", "fail2");
    exporter2 = second.child;
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "rule_files:",
        `  - ${join(process.cwd(), "deploy/alerts/netdoctor-rules.yaml")}`,
        "scrape_configs:",
        "  - job_name: netdoctor-exporter",
        "    static_configs:",
        `      - targets: ["${started.url.replace("http://", "")}", "${second.url.replace("http://", "")}"]`,
        "",
      ].join("\n"),
    );
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr!.setEncoding("utf8");
    prometheus.stderr!.on("data", (chunk: string) => {
      prometheusLog = (prometheusLog + chunk).slice(-20_000);
    });
  }, HANG_GUARD_MS);

  afterAll(async () => {
    await stop(prometheus);
    await stop(exporter);
    await stop(exporter2);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs an instant query every 500 ms until `ok` accepts its result: a fixed point. The test's own
   * limit (below) only guards against a hang; a slow Prometheus start just makes the wait longer.
   */
  async function queryUntil(
    query: string,
    ok: (result: { metric: Record<string, string>; value: [number, string] }[]) => boolean,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    let last = "";
    for (let i = 1; ; i++) {
      // A wait that goes on says what it waits for, so a hang is diagnosable from the log.
      if (i % 120 === 0)
        console.warn(`still waiting for ${query}; last answer: ${last}\n${prometheusLog.slice(-2000)}`);
      try {
        const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = (await res.json()) as { status: string; data?: { result: never[] } };
        last = JSON.stringify(body);
        if (body.status === "success" && ok(body.data!.result)) return body.data!.result;
      } catch (error) {
        last = String(error);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  test("the target is up and the rule counts arrive with the node label", async () => {
    const up = await queryUntil(
      'up{job="netdoctor-exporter"}',
      (r) => r.length === 2 && r.every((x) => x.value[1] === "1"),
    );
    expect(up).toHaveLength(2);
    const nat = await queryUntil(
      'netdoctor_iptables_rules{table="nat",node="live-1"}',
      (r) => r.length === 1,
    );
    expect(nat[0]!.metric).toMatchObject({ node: "live-1", table: "nat", job: "netdoctor-exporter" });
    expect(Number(nat[0]!.value[1])).toBe(counts.nat);
    const filter = await queryUntil(
      'netdoctor_iptables_rules{table="filter",node="live-1"}',
      (r) => r.length === 1,
    );
    expect(Number(filter[0]!.value[1])).toBe(counts.filter);
  });

  test("duplicates, version, known bug and the recording rule arrive", async () => {
    const dup = await queryUntil(
      'netdoctor_iptables_duplicate_rules{owner="kube-router",node="live-1"}',
      (r) => r.length === 1,
    );
    expect(Number(dup[0]!.value[1])).toBe(DUMP.duplicates);
    const info = await queryUntil('netdoctor_iptables_info{node="live-1"}', (r) => r.length === 1);
    expect(info[0]!.metric).toMatchObject({ version: "1.8.2", backend: "nf_tables" });
    const bug = await queryUntil(
      'netdoctor_iptables_known_bug{id="k3s-3117",node="live-1"}',
      (r) => r.length === 1,
    );
    expect(bug[0]!.value[1]).toBe("1");
    const total = await queryUntil(
      'cluster_node:netdoctor_iptables_rules:sum{node="live-1"}',
      (r) => r.length === 1,
    );
    expect(total[0]!.metric).toEqual({
      __name__: "cluster_node:netdoctor_iptables_rules:sum",
      node: "live-1",
    });
    expect(Number(total[0]!.value[1])).toBe(counts.nat + counts.filter);
  });

  test("a failing save shows up as errors while the last good counts stay", async () => {
    writeFileSync(join(dir, "fail"), "");
    try {
      const errors = await queryUntil(
        'netdoctor_iptables_save_errors_total{reason="exit-code",node="live-1"}',
        (r) => r.length === 1 && Number(r[0]!.value[1]) >= 2,
      );
      expect(errors[0]!.metric.node).toBe("live-1");
      const bug = await queryUntil(
        'netdoctor_iptables_known_bug{id="xtables-lock",node="live-1"}',
        (r) => r[0]?.value[1] === "1",
      );
      expect(bug).toHaveLength(1);
      const nat = await queryUntil(
        'netdoctor_iptables_rules{table="nat",node="live-1"}',
        (r) => r.length === 1,
      );
      expect(Number(nat[0]!.value[1])).toBe(counts.nat);
      const ok = await queryUntil(
        'netdoctor_iptables_sample_ok{node="live-1"}',
        (r) => r[0]?.value[1] === "0",
      );
      expect(ok).toHaveLength(1);
    } finally {
      rmSync(join(dir, "fail"), { force: true });
    }
  });

  test("an exporter whose saves have not worked yet publishes no rule series, then the first good save brings them", async () => {
    // Scraped (its error counter arrived) and not OK: no rule count at all, not a 0.
    await queryUntil(
      'netdoctor_iptables_save_errors_total{reason="exit-code",node="live-2"}',
      (r) => r.length === 1 && Number(r[0]!.value[1]) >= 2,
    );
    const notOk = await queryUntil('netdoctor_iptables_sample_ok{node="live-2"}', (r) => r.length === 1);
    expect(notOk[0]!.value[1]).toBe("0");
    const none = await queryUntil(
      '{node="live-2",__name__=~"netdoctor_iptables_(rules|chains|duplicate_rules|info|last_success_timestamp_seconds)"}',
      () => true,
    );
    expect(none).toEqual([]);
    rmSync(join(dir, "fail2"), { force: true });
    const nat = await queryUntil(
      'netdoctor_iptables_rules{table="nat",node="live-2"}',
      (r) => r.length === 1,
    );
    expect(Number(nat[0]!.value[1])).toBe(counts.nat);
    await queryUntil('netdoctor_iptables_sample_ok{node="live-2"}', (r) => r[0]?.value[1] === "1");
    // The recorded sum never saw a 0 for this node: its lowest value is the real count.
    const low = await queryUntil(
      'min_over_time(cluster_node:netdoctor_iptables_rules:sum{node="live-2"}[1h])',
      (r) => r.length === 1,
    );
    expect(Number(low[0]!.value[1])).toBe(counts.nat + counts.filter);
  });
});
