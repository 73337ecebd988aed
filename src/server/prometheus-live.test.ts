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

describe.skipIf(skip)("exporter scraped by a real Prometheus", () => {
  let dir = "";
  let exporter: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let exporterLog = "";
  let prometheusLog = "";
  let api = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nd-exporter-prom-"));
    writeFileSync(join(dir, "dump.txt"), [...syntheticDump(DUMP)].join(""));
    writeFileSync(
      join(dir, "save.sh"),
      `if [ -e '${dir}/fail' ]; then echo 'iptables-save: Another app is currently holding the xtables lock' >&2; exit 4; fi\ncat '${dir}/dump.txt'\n`,
    );
    exporter = spawn(
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
        "live-1",
        "--save-command",
        `sh '${dir}/save.sh'`,
        "--version-command",
        "echo 'iptables v1.8.2 (nf_tables)'",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    exporter.stderr!.setEncoding("utf8");
    const exporterUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`The exporter did not start:\n${exporterLog}`)),
        60_000,
      );
      exporter!.stderr!.on("data", (chunk: string) => {
        exporterLog += chunk;
        const m = /serving (http:\/\/[^ ]+)\/metrics/.exec(exporterLog);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      exporter!.once("exit", (code) =>
        reject(new Error(`The exporter exited with ${code}:\n${exporterLog}`)),
      );
    });
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
        `      - targets: ["${exporterUrl.replace("http://", "")}"]`,
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
  });

  afterAll(async () => {
    await stop(prometheus);
    await stop(exporter);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Runs an instant query until `ok` accepts its result (bounded: 120 attempts, 500 ms apart). */
  async function queryUntil(
    query: string,
    ok: (result: { metric: Record<string, string>; value: [number, string] }[]) => boolean,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    let last = "";
    for (let i = 0; i < 120; i++) {
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
    throw new Error(
      `Prometheus never answered ${query} as expected; last answer: ${last}\n${prometheusLog.slice(-3000)}`,
    );
  }

  test("the target is up and the rule counts arrive with the node label", async () => {
    const up = await queryUntil(
      'up{job="netdoctor-exporter"}',
      (r) => r.length === 1 && r[0]!.value[1] === "1",
    );
    expect(up).toHaveLength(1);
    const nat = await queryUntil('netdoctor_iptables_rules{table="nat"}', (r) => r.length === 1);
    expect(nat[0]!.metric).toMatchObject({ node: "live-1", table: "nat", job: "netdoctor-exporter" });
    expect(Number(nat[0]!.value[1])).toBe(counts.nat);
    const filter = await queryUntil('netdoctor_iptables_rules{table="filter"}', (r) => r.length === 1);
    expect(Number(filter[0]!.value[1])).toBe(counts.filter);
  });

  test("duplicates, version, known bug and the recording rule arrive", async () => {
    const dup = await queryUntil(
      'netdoctor_iptables_duplicate_rules{owner="kube-router"}',
      (r) => r.length === 1,
    );
    expect(Number(dup[0]!.value[1])).toBe(DUMP.duplicates);
    const info = await queryUntil("netdoctor_iptables_info", (r) => r.length === 1);
    expect(info[0]!.metric).toMatchObject({ version: "1.8.2", backend: "nf_tables" });
    const bug = await queryUntil('netdoctor_iptables_known_bug{id="k3s-3117"}', (r) => r.length === 1);
    expect(bug[0]!.value[1]).toBe("1");
    const total = await queryUntil("cluster_node:netdoctor_iptables_rules:sum", (r) => r.length === 1);
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
        'netdoctor_iptables_save_errors_total{reason="exit-code"}',
        (r) => r.length === 1 && Number(r[0]!.value[1]) >= 2,
      );
      expect(errors[0]!.metric.node).toBe("live-1");
      const bug = await queryUntil(
        'netdoctor_iptables_known_bug{id="xtables-lock"}',
        (r) => r[0]?.value[1] === "1",
      );
      expect(bug).toHaveLength(1);
      const nat = await queryUntil('netdoctor_iptables_rules{table="nat"}', (r) => r.length === 1);
      expect(Number(nat[0]!.value[1])).toBe(counts.nat);
      const up = await queryUntil('up{job="netdoctor-exporter"}', (r) => r.length === 1);
      expect(up[0]!.value[1]).toBe("1");
    } finally {
      rmSync(join(dir, "fail"), { force: true });
    }
  });
});
