/**
 * `npm run bench -- layouts`: netdoctor's whole commands on 1M-rule dumps of every layout
 * (src/bench/layouts.ts: kube-proxy's write order, iptables-save order, all distinct, all leaked) and
 * on the real-world dumps of ../shared/realworld, each next to the command people would run by hand,
 * in one run: `scan` and `diagnose` and `trace` against `LC_ALL=C sort | uniq -c | sort -rn | head`,
 * `fix duplicates` against `awk '!seen[$0]++'`. Then the kube-proxy layout from 100k to 1M rules, to
 * show that time and memory grow linearly. Every command runs as a child process; the runs of all
 * commands alternate (a round runs each once), and the median wall time and the highest peak RSS are
 * reported. A ratio is the median of the rounds' ratios: on a shared machine a slow stretch slows
 * both commands of a round, and does not decide a comparison on its own.
 *
 * `BENCH_RUNS` sets the runs per command (default 3).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { cachedLayoutDump } from "./cached-dump.ts";
import { type GenerateDumpOptions, generatedCounts } from "./generate-dump.ts";
import { BUNDLE_QUESTION, layoutBundle } from "./layout-bundle.ts";
import { type BenchLayout, LAYOUTS } from "./layouts.ts";
import { load, type Measure, measure, median, quote, summary } from "./measure.ts";

export const name = "layouts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLI = resolve("dist/netdoctor.mjs");
const OUT = resolve(".bench", "layouts-out");
const REALWORLD = resolve("../shared/realworld");
/** Services the small bundles' API side describes (the node's other rules are then stale). */
const API_SERVICES = 100;
/** Sizes of the growth curve (kube-proxy layout). */
const CURVE = [100_000, 250_000, 500_000];
/** The client pod's address and Service 1's ClusterIP (`generate-dump.ts`: 10.43.0.0/16 + index + 1). */
const TRACE = { src: "10.42.255.250", dst: "10.43.0.2:80", localIp: "192.168.20.1" };

type Target = { readonly ratio: number; readonly mb: number };
const TARGETS: Record<string, Target> = {
  scan: { ratio: 0.5, mb: 150 },
  "fix duplicates": { ratio: 1.0, mb: 400 },
  diagnose: { ratio: 2.0, mb: 600 },
  trace: { ratio: 1.0, mb: Number.POSITIVE_INFINITY },
};

interface Job {
  readonly name: string;
  readonly script: string;
}

const node = `node ${quote(CLI)}`;
const sortJob = (file: string): Job => ({
  name: "sort",
  script: `LC_ALL=C sort ${quote(file)} | uniq -c | sort -rn | head > /dev/null`,
});
const awkJob = (file: string): Job => ({
  name: "awk",
  script: `awk '!seen[$0]++' ${quote(file)} > ${quote(`${OUT}.awk`)}`,
});

function ours(file: string, bundle: string): Job[] {
  return [
    { name: "scan", script: `${node} scan -o json ${quote(file)} > /dev/null` },
    {
      name: "fix duplicates",
      script: `rm -rf ${quote(OUT)} && ${node} fix duplicates --dump ${quote(file)} --out ${quote(`${OUT}/`)} -o json > /dev/null`,
    },
    {
      name: "diagnose",
      // Exit 3 (undecided) is an answer: the bench bundle has no cluster DNS Service and no
      // endpoint pods, so links past the trace stay unproven; the work measured is the same.
      script: `${node} diagnose --bundle ${quote(bundle)} --from ${BUNDLE_QUESTION.from} --to ${BUNDLE_QUESTION.to} -o json > /dev/null; test $? -le 3`,
    },
    {
      name: "trace",
      // With the node's address (layout-bundle.ts), so the trace decides local or forward.
      script: `${node} trace --dump ${quote(file)} --src ${TRACE.src} --dst ${TRACE.dst} --local-ip ${TRACE.localIp} -o json > /dev/null`,
    },
  ];
}

/** Every job's summary (median wall, highest peak RSS), and its wall time in each round. */
interface Results {
  get(job: string): Measure | undefined;
  /**
   * The median over the rounds of `job`'s time over `base`'s in the same round: each round runs
   * every job once, one after the other, so a slow stretch of a shared machine weighs on both.
   */
  ratio(job: string, base: string): number;
}

/** Runs every job RUNS times, the jobs' runs alternating (a round runs each job once). */
async function runAll(jobs: readonly Job[]): Promise<Results> {
  const runs = new Map<string, Measure[]>(jobs.map((j) => [j.name, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const j of jobs) {
      process.stderr.write(`    ${j.name} (${r + 1}/${RUNS}, load ${load()})\n`);
      runs.get(j.name)!.push(await measure(j.script));
    }
  }
  const summaries = new Map([...runs].map(([k, v]) => [k, summary(v)]));
  return {
    get: (job) => summaries.get(job),
    ratio: (job, base) => {
      const b = runs.get(base)!;
      return median(runs.get(job)!.map((m, r) => m.seconds / b[r]!.seconds));
    },
  };
}

const options = new Map<string, GenerateDumpOptions>();
function optionsOf(layout: BenchLayout, rules: number): GenerateDumpOptions {
  const key = `${layout.name} ${rules}`;
  if (!options.has(key)) options.set(key, layout.options(rules));
  return options.get(key)!;
}

/** The dump and its small bundle, checked once: scan must find the rules and copies the generator wrote. */
async function prepare(layout: BenchLayout, rules: number): Promise<{ file: string; bundle: string }> {
  const o = optionsOf(layout, rules);
  const file = await cachedLayoutDump(layout, rules);
  const bundle = layoutBundle(`${layout.name}-${rules}-api${API_SERVICES}`, file, o, API_SERVICES);
  const expected = generatedCounts(o);
  const json = JSON.parse(
    execFileSync("sh", ["-c", `${node} scan -o json ${quote(file)}; true`], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    }),
  ) as { nodes: { rules: number; duplicates: { extraRules: number } }[] };
  const got = json.nodes[0]!;
  if (got.rules !== expected.rules || got.duplicates.extraRules !== expected.extraRules) {
    throw new Error(
      `Cannot trust the layouts bench: ${file} has ${expected.rules} rules and ${expected.extraRules} copies, scan found ${got.rules} and ${got.duplicates.extraRules}`,
    );
  }
  return { file, bundle };
}

const n = (x: number) => x.toLocaleString("en-US");
const s = (m: Measure) => `${m.seconds.toFixed(2)} s`;
const mb = (m: Measure) => `${m.peakMB.toFixed(0)} MB`;

function verdict(command: string, ratio: number, m: Measure): string {
  const t = TARGETS[command];
  if (t === undefined) return "";
  const ok = ratio <= t.ratio && m.peakMB <= t.mb;
  const mem = Number.isFinite(t.mb) ? `, <= ${t.mb} MB` : "";
  return `${ok ? "met" : "**not met**"} (<= ${t.ratio.toFixed(1)}x${mem})`;
}

async function layoutRows(): Promise<string[]> {
  const rows: string[] = [];
  for (const layout of LAYOUTS) {
    process.stderr.write(`  layout ${layout.name}\n`);
    const { file, bundle } = await prepare(layout, layout.rules);
    const jobs = [...ours(file, bundle), sortJob(file), awkJob(file)];
    const r = await runAll(jobs);
    const size = `${(statSync(file).size / 1e6).toFixed(0)} MB`;
    for (const job of ours(file, bundle)) {
      const base = job.name === "fix duplicates" ? "awk" : "sort";
      const m = r.get(job.name)!;
      const b = r.get(base)!;
      const ratio = r.ratio(job.name, base);
      rows.push(
        `| ${layout.name} | ${n(layout.rules)} (${size}) | \`${job.name}\` | ${s(m)} | ${mb(m)} | ${base === "awk" ? "`awk '!seen[$0]++'`" : "`sort \\| uniq -c \\| sort -rn \\| head`"} | ${s(b)} | ${mb(b)} | ${ratio.toFixed(2)} | ${verdict(job.name, ratio, m)} |`,
      );
    }
  }
  return rows;
}

/** diagnose with the API objects of all the node's Services, for the kube-proxy layout. */
async function fullApiRow(): Promise<string> {
  const layout = LAYOUTS[0]!;
  const o = optionsOf(layout, layout.rules);
  const file = await cachedLayoutDump(layout, layout.rules);
  const bundle = layoutBundle(`${layout.name}-${layout.rules}-api-all`, file, o);
  const mbApi =
    ["services.json", "endpointslices.json"].reduce(
      (t, f) => t + statSync(join(bundle, "cluster", f)).size,
      0,
    ) / 1e6;
  process.stderr.write(`  diagnose with the full API side\n`);
  const r = await runAll([ours(file, bundle)[2]!, sortJob(file)]);
  const m = r.get("diagnose")!;
  const b = r.get("sort")!;
  const ratio = r.ratio("diagnose", "sort");
  return `| ${layout.name}, API side of all ${n(o.services)} Services (${mbApi.toFixed(0)} MB of JSON) | ${n(layout.rules)} | \`diagnose\` | ${s(m)} | ${mb(m)} | \`sort \\| uniq -c \\| sort -rn \\| head\` | ${s(b)} | ${mb(b)} | ${ratio.toFixed(2)} | ${verdict("diagnose", ratio, m)} |`;
}

async function curveRows(): Promise<string[]> {
  const layout = LAYOUTS[0]!;
  const rows: string[] = [];
  for (const rules of [...CURVE, layout.rules]) {
    process.stderr.write(`  curve ${n(rules)}\n`);
    const { file, bundle } = await prepare(layout, rules);
    const r = await runAll([...ours(file, bundle), sortJob(file)]);
    const cell = (k: string) => `${s(r.get(k)!)}, ${mb(r.get(k)!)}`;
    rows.push(
      `| ${n(rules)} | ${cell("scan")} | ${cell("fix duplicates")} | ${cell("diagnose")} | ${cell("trace")} | ${cell("sort")} |`,
    );
  }
  return rows;
}

/** Whether the CLI reads the input of these arguments (exit 0 or 1: healthy or findings). */
function reads(args: readonly string[]): boolean {
  try {
    execFileSync("node", [CLI, ...args], { stdio: "ignore" });
    return true;
  } catch (error) {
    return (error as { status?: number }).status === 1;
  }
}

/** The real-world dumps netdoctor reads: all in one `scan`, and `fix duplicates` per file. */
async function realworldRows(): Promise<string[]> {
  if (!existsSync(REALWORLD)) return [`Real-world set skipped: ${REALWORLD} is absent.`];
  const files = readdirSync(REALWORLD)
    .sort()
    .map((f) => join(REALWORLD, f))
    // fix refuses what scan still counts (a truncated paste): both must read the file.
    .filter(
      (f) => reads(["scan", "-o", "json", f]) && reads(["fix", "duplicates", "--dump", f, "-o", "json"]),
    );
  const all = files.map(quote).join(" ");
  const mbAll = files.reduce((t, f) => t + statSync(f).size, 0) / 1e6;
  process.stderr.write(`  real-world set (${files.length} files)\n`);
  const r = await runAll([
    { name: "scan", script: `${node} scan -o json ${all} > /dev/null; test $? -le 1` },
    {
      name: "sort",
      script: `for f in ${all}; do LC_ALL=C sort "$f" | uniq -c | sort -rn | head; done > /dev/null`,
    },
    {
      name: "fix duplicates",
      script: `for f in ${all}; do ${node} fix duplicates --dump "$f" -o json; test $? -le 1 || exit 2; done > /dev/null`,
    },
    { name: "awk", script: `for f in ${all}; do awk '!seen[$0]++' "$f"; done > /dev/null` },
  ]);
  const row = (cmd: string, base: string, how: string) => {
    const m = r.get(cmd)!;
    const b = r.get(base)!;
    return `| real-world set | ${files.length} files (${mbAll.toFixed(1)} MB) | \`${cmd}\` ${how} | ${s(m)} | ${mb(m)} | ${base === "awk" ? "`awk '!seen[$0]++'` per file" : "the sort pipeline per file"} | ${s(b)} | ${mb(b)} | ${r.ratio(cmd, base).toFixed(2)} | (small files: Node's start-up) |`;
  };
  return [row("scan", "sort", "(one process)"), row("fix duplicates", "awk", "(one process per file)")];
}

export async function run(): Promise<string> {
  if (!existsSync(CLI)) throw new Error(`Cannot run the layouts bench: ${CLI} is missing (npm run build)`);
  const startLoad = load();
  const starts: Measure[] = [];
  for (let i = 0; i < 3; i++) starts.push(await measure(`${node} --version > /dev/null`));
  const startup = summary(starts);
  const rows = await layoutRows();
  const full = await fullApiRow();
  const real = await realworldRows();
  const curve = await curveRows();
  rmSync(OUT, { recursive: true, force: true });
  rmSync(`${OUT}.awk`, { force: true });
  const header = [
    "| layout | rules | netdoctor | wall | peak RSS | side by side with | wall | peak RSS | ratio | target |",
    "|---|---:|---|---:|---:|---|---:|---:|---:|---|",
  ];
  return [
    "### Every layout",
    "",
    `Median wall time of ${RUNS} rounds (a round runs every command once, one after the other), peak RSS the highest of them; ratio = the median over the rounds of netdoctor's time over the other tool's in the same round (a slow stretch of the shared machine weighs on both).`,
    `\`diagnose\` asks \`--from ${BUNDLE_QUESTION.from} --to ${BUNDLE_QUESTION.to}\` of a bundle holding the node and the API objects of ${API_SERVICES} of its Services (a node whose other rules are stale): one pass over the node's dump scans it, indexes it and parses it for the trace.`,
    `\`trace\` is one packet (${TRACE.src} to ${TRACE.dst}), whole process. Load average ${startLoad} at the start, ${load()} at the end (2 cores, shared).`,
    `Node start-up and loading the CLI (\`netdoctor --version\`): ${s(startup)}.`,
    "",
    ...header,
    ...rows,
    full,
    ...real.filter((l) => l.startsWith("|")),
    "",
    ...real.filter((l) => !l.startsWith("|")),
    "### Growth (kube-proxy write order, 100k to 1M rules)",
    "",
    "| rules | scan | fix duplicates | diagnose | trace | sort pipeline |",
    "|---:|---:|---:|---:|---:|---:|",
    ...curve,
    "",
  ].join("\n");
}
