/**
 * `npm run bench -- fix`: `netdoctor fix duplicates` on generated 100k and 1M-rule dumps (kube-proxy,
 * flannel and kube-router rules plus k3s-io/k3s#3117 leaked copies), side by side with the one-liner
 * people use, `awk '!seen[$0]++'` — which is faster because it is wrong (see docs/fix-duplicates.md:
 * one COMMIT for all tables, dropped chain declarations, stateful copies removed).
 *
 * Reported: the planning time alone (in process: plan + restore rendering over a parsed dump, the
 * issue's "under 2 s for 1M rules"), the time of the one pass that parses and scans the dump, and
 * the whole command's wall time. Every layout, with peak memory: `npm run bench -- layouts`.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { readAndScanDump } from "../collect/read-dump.ts";
import { planDuplicates } from "../fix/plan-duplicates.ts";
import { renderRestore } from "../fix/render-restore.ts";
import type { TableName } from "../model/ruleset.ts";
import { cachedDump } from "./cached-dump.ts";

export const name = "fix duplicates";

const SIZES = [100_000, 1_000_000];
const RUNS = 2;
const DIR = resolve(".bench");
const CLI = resolve("dist/netdoctor.mjs");

function wall(script: string): number {
  const start = performance.now();
  const r = spawnSync("sh", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0 && r.status !== 1) throw new Error(`"${script}" failed (${r.status}): ${r.stderr}`);
  return (performance.now() - start) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (x: number): string => `${x.toFixed(2)} s`;

export async function run(): Promise<string> {
  const rows: string[] = [];
  for (const size of SIZES) {
    const file = await cachedDump("fix", size);
    const out = join(DIR, `fix-out-${size}`);
    const parse: number[] = [];
    const plan: number[] = [];
    const cli: number[] = [];
    const awk: number[] = [];
    let removed = 0;
    let copies = 0;
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      const { ruleset: rs, scan } = await readAndScanDump(file, { node: "bench", file }, { lazy: true });
      parse.push((performance.now() - t) / 1000);
      t = performance.now();
      const chains = new Map<TableName, Set<string>>();
      for (const g of scan.duplicates.groups)
        chains.set(g.table, (chains.get(g.table) ?? new Set()).add(g.chain));
      const p = planDuplicates(rs, { chainsWithCopies: chains });
      const files = renderRestore(rs, p);
      plan.push((performance.now() - t) / 1000);
      removed = p.removed;
      copies = p.copies;
      if (files.length === 0) throw new Error("the generated dump has no removable copies");
      rmSync(out, { recursive: true, force: true });
      cli.push(wall(`node ${CLI} fix duplicates --dump ${file} --out ${out}/ -o json > /dev/null`));
      awk.push(wall(`awk '!seen[$0]++' ${file} > ${out}.awk`));
    }
    rmSync(`${out}.awk`, { force: true });
    rows.push(
      `| ${size.toLocaleString("en-US")} | ${copies.toLocaleString("en-US")} / ${removed.toLocaleString("en-US")} | ${s(median(parse))} | **${s(median(plan))}** | ${s(median(cli))} | ${s(median(awk))} | ${(median(cli) / median(awk)).toFixed(1)}x |`,
    );
  }
  return [
    "## fix duplicates",
    "",
    `Generated k3s node dumps (kube-proxy + flannel + kube-router, ~20% leaked copies), median of ${RUNS} runs, one core.`,
    "Read = the one pass that parses (lazily) and scans the dump; planning = `planDuplicates` (only the chains the scan found copies in) + `renderRestore` (goal: under 2 s at 1M rules).",
    "The awk one-liner is only a speed reference: its output is not a valid or safe restore file.",
    "",
    "| rules | copies / removable | read (parse + scan) | planning | `netdoctor fix duplicates` (whole command) | `awk '!seen[$0]++'` | ratio |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
  ].join("\n");
}
