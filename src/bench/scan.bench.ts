/**
 * `npm run bench -- scan`: `netdoctor scan -o json` against the pipeline people run by hand to find
 * duplicate rules, `LC_ALL=C sort FILE | uniq -c | sort -rn | head`, on the same generated dumps
 * (kube-proxy rules for many Services plus k3s-io/k3s#3117 leaked copies) at 10k, 100k and 1M rules.
 * Both run as child processes, alternately, several times; the medians are compared.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { cachedDump } from "./cached-dump.ts";
import { generatedCounts, optionsForRules } from "./generate-dump.ts";

/** The bench's name, as `npm run bench -- scan` selects it. */
export const name = "scan";

const SIZES = [10_000, 100_000, 1_000_000];
const RUNS = 3;
const CLI = resolve("dist/netdoctor.mjs");

interface Measure {
  readonly seconds: number;
  /** Peak resident memory in MB of the largest process (the pipeline's processes are measured alike). */
  readonly peakMB: number;
}

const hasGnuTime = existsSync("/usr/bin/time");

/** Runs `sh -c script` and measures its wall time and the peak RSS of its largest process. */
async function measure(script: string): Promise<Measure> {
  if (hasGnuTime) {
    const start = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "%M", "sh", "-c", script], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const [code] = (await once(child, "close")) as [number];
    const seconds = (performance.now() - start) / 1000;
    const kb = Number(stderr.trim().split("\n").at(-1));
    if (!Number.isFinite(kb)) throw new Error(`Cannot measure "${script}" (exit ${code}): ${stderr}`);
    return { seconds, peakMB: kb / 1024 };
  }
  // Without GNU time: poll VmHWM of every process of the tree (Linux /proc).
  const start = performance.now();
  const child = spawn("sh", ["-c", script], { stdio: "ignore" });
  let peak = 0;
  const timer = setInterval(() => {
    for (const pid of treePids(child.pid!)) {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        if (m !== null) peak = Math.max(peak, Number(m[1]));
      } catch {
        // The process ended between listing and reading.
      }
    }
  }, 10);
  await once(child, "close");
  clearInterval(timer);
  return { seconds: (performance.now() - start) / 1000, peakMB: peak / 1024 };
}

function treePids(root: number): number[] {
  try {
    const out = execFileSync("ps", ["-o", "pid=", "--ppid", String(root)], { encoding: "utf8" });
    const kids = out
      .split("\n")
      .map(Number)
      .filter((n) => n > 0);
    return [root, ...kids.flatMap(treePids)];
  } catch {
    return [root];
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function quote(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

/** Generates (or reuses) the dumps, measures both tools on each and returns the Markdown section. */
export async function run(): Promise<string> {
  if (!existsSync(CLI)) throw new Error(`Cannot run the scan bench: ${CLI} is missing (npm run build)`);
  const rows: string[] = [];
  const notes: string[] = [];
  // Start-up of the bundle is part of every run above; shown apart so it can be told from the scan itself.
  const startups: number[] = [];
  for (let i = 0; i < RUNS; i++)
    startups.push((await measure(`node ${quote(CLI)} --version > /dev/null`)).seconds);
  const startup = median(startups);
  for (const rules of SIZES) {
    const file = await cachedDump("scan", rules);
    const expected = generatedCounts(optionsForRules(rules));
    const ours = `node ${quote(CLI)} scan -o json ${quote(file)} > /dev/null; test $? -le 1`;
    const theirs = `LC_ALL=C sort ${quote(file)} | uniq -c | sort -rn | head > /dev/null`;
    // Check once that the figures are for a correct run.
    const json = JSON.parse(
      execFileSync("sh", ["-c", `node ${quote(CLI)} scan -o json ${quote(file)}; true`], {
        encoding: "utf8",
        maxBuffer: 64 << 20,
      }),
    ) as { nodes: { rules: number; duplicates: { extraRules: number } }[] };
    const node = json.nodes[0]!;
    if (node.rules !== expected.rules || node.duplicates.extraRules !== expected.extraRules) {
      throw new Error(
        `Cannot trust the scan bench: ${file} has ${expected.rules} rules and ${expected.extraRules} copies, scan found ${node.rules} and ${node.duplicates.extraRules}`,
      );
    }
    const a: Measure[] = [];
    const b: Measure[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await measure(ours));
      b.push(await measure(theirs));
    }
    const ta = median(a.map((m) => m.seconds));
    const tb = median(b.map((m) => m.seconds));
    const ma = Math.max(...a.map((m) => m.peakMB));
    const mb = Math.max(...b.map((m) => m.peakMB));
    const ratio = ta / tb;
    const size = statSync(file).size / 1e6;
    rows.push(
      `| ${rules.toLocaleString("en-US")} | ${size.toFixed(1)} MB | ${ta.toFixed(2)} s | ${ma.toFixed(0)} MB | ${tb.toFixed(2)} s | ${mb.toFixed(0)} MB | ${ratio.toFixed(2)} |`,
    );
    if (rules >= 1_000_000) {
      notes.push(
        `Goal at ${rules.toLocaleString("en-US")} rules: ratio <= 1.0 (${ratio <= 1 ? "met" : "NOT met"}: ${ratio.toFixed(2)}), peak memory <= 400 MB (${ma <= 400 ? "met" : "NOT met"}: ${ma.toFixed(0)} MB).`,
      );
    }
  }
  return [
    `### scan`,
    "",
    `\`netdoctor scan -o json FILE\` against \`LC_ALL=C sort FILE | uniq -c | sort -rn | head\` on generated dumps`,
    `(kube-proxy rules for N Services with about 3 endpoints each, flannel and kube-router rules, and 20%`,
    `leaked copies as in k3s-io/k3s#3117). Median wall time of ${RUNS} alternating runs; peak RSS of the largest process`,
    `(${hasGnuTime ? "GNU time" : "/proc VmHWM"}). Ratio = netdoctor time / pipeline time.`,
    "",
    "| rules | dump | netdoctor scan | peak RSS | sort pipeline | peak RSS | ratio |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    ...notes,
    `CLI start-up alone (\`netdoctor --version\`, median of ${RUNS}): ${startup.toFixed(2)} s.`,
    "",
  ].join("\n");
}
