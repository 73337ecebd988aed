/**
 * `npm run bench -- exporter`: `netdoctor exporter` (the built CLI) on a generated 1M-rule dump.
 * Measures one save+parse cycle (the exporter's own netdoctor_iptables_save_duration_seconds),
 * its peak memory, and scrape latency over 200 scrapes, once idle and once while saves run back
 * to back. The baseline is what people script for node-exporter's textfile collector:
 * `iptables-save | awk` for per-table counts plus `sort | uniq -d -c` for duplicates.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseMetricsText } from "../testing/metrics-text.ts";
import { cachedDump } from "./cached-dump.ts";
import { generatedCounts, optionsForRules } from "./generate-dump.ts";

export const name = "exporter";

const RULES = 1_000_000;
const SCRAPES = 200;
const CLI = resolve("dist/netdoctor.mjs");

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
}

async function startExporter(file: string, interval: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "exporter",
      "--listen",
      "127.0.0.1:0",
      "--interval",
      interval,
      "--timeout",
      "120s",
      "--node",
      "bench",
      "--save-command",
      `cat '${file}'`,
      "--version-command",
      "echo 'iptables v1.8.9 (nf_tables)'",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.setEncoding("utf8");
  const url = await new Promise<string>((res, rej) => {
    child.stderr!.on("data", (d: string) => {
      log += d;
      const m = /serving (http:\/\/\S+)\/metrics/.exec(log);
      if (m !== null) res(m[1]!);
    });
    child.once("exit", (code) => rej(new Error(`The exporter exited with ${code}: ${log}`)));
  });
  return { child, url };
}

async function stop(r: Running): Promise<void> {
  r.child.kill("SIGTERM");
  if (r.child.exitCode === null) await once(r.child, "exit");
}

async function scrape(url: string): Promise<{ ms: number; values: Map<string, number> }> {
  const start = performance.now();
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  return { ms: performance.now() - start, values: parseMetricsText(text) };
}

/** Polls until the first sample is published (bounded: 10 minutes). */
async function firstSample(url: string): Promise<Map<string, number>> {
  for (let i = 0; i < 2400; i++) {
    const { values } = await scrape(url);
    if ((values.get('netdoctor_iptables_last_success_timestamp_seconds{node="bench"}') ?? 0) > 0)
      return values;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("The exporter never published a sample");
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latencies(url: string, gapMs: number): Promise<{ p50: number; p99: number; max: number }> {
  const ms: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    ms.push((await scrape(url)).ms);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1)! };
}

function peakRssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function baseline(file: string): Promise<number> {
  const script =
    `awk '/^\\*/{t=substr($0,2)} /^-A/{n[t]++} END{for(t in n) print "iptables_rules{table=\\""t"\\"} "n[t]}' '${file}' > /dev/null; ` +
    `grep '^-A' '${file}' | LC_ALL=C sort | uniq -d -c | wc -l > /dev/null`;
  const start = performance.now();
  const child = spawn("sh", ["-c", script], { stdio: "ignore" });
  await once(child, "close");
  return (performance.now() - start) / 1000;
}

export async function run(): Promise<string> {
  const file = await cachedDump("exporter", RULES);
  const counts = generatedCounts(optionsForRules(RULES));

  const idle = await startExporter(file, "1h");
  let idleStats: { p50: number; p99: number; max: number };
  let cycle: number;
  let peak: number;
  let correct: boolean;
  try {
    const values = await firstSample(idle.url);
    cycle = values.get('netdoctor_iptables_save_duration_seconds{node="bench"}')!;
    const total =
      (values.get('netdoctor_iptables_rules{node="bench",table="nat"}') ?? 0) +
      (values.get('netdoctor_iptables_rules{node="bench",table="filter"}') ?? 0);
    correct = total === counts.rules;
    peak = peakRssMB(idle.child.pid!);
    idleStats = await latencies(idle.url, 5);
  } finally {
    await stop(idle);
  }

  // Interval 1s: a new save starts as soon as the last one ends, so every scrape meets a parse.
  const busy = await startExporter(file, "1s");
  let busyStats: { p50: number; p99: number; max: number };
  try {
    await firstSample(busy.url);
    busyStats = await latencies(busy.url, 20);
  } finally {
    await stop(busy);
  }
  const shell = await baseline(file);

  const f = (n: number) => n.toFixed(1);
  return [
    `## exporter (${RULES.toLocaleString("en-US")}-rule dump, ${SCRAPES} scrapes each)`,
    "",
    "| measure | netdoctor exporter | textfile-collector script (awk + sort \\| uniq) | ratio |",
    "|---|---|---|---|",
    `| one save + parse cycle | ${cycle.toFixed(2)} s | ${shell.toFixed(2)} s | ${(shell / cycle).toFixed(2)}x |`,
    `| peak memory (VmHWM) | ${f(peak)} MB | | |`,
    `| scrape p50 / p99 / max, idle | ${f(idleStats.p50)} / ${f(idleStats.p99)} / ${f(idleStats.max)} ms | | |`,
    `| scrape p50 / p99 / max, saves back to back | ${f(busyStats.p50)} / ${f(busyStats.p99)} / ${f(busyStats.max)} ms | | |`,
    "",
    `Rule counts ${correct ? "match" : "DO NOT match"} the generator (${counts.rules.toLocaleString("en-US")} rules). ` +
      "Goal: scrape under 50 ms; values are computed once per save and cached, scrapes only serialize them.",
    "",
  ].join("\n");
}
