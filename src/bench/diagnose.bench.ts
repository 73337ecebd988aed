/**
 * `npm run bench -- diagnose`: `netdoctor diagnose` (full check: every Service on every node) on a
 * generated bundle of 20 nodes, 5,000 Services and 50,000 endpoints, side by side with the real
 * `iptables-restore --test` just reading the same 20 dumps (in a throw-away network namespace,
 * never the root one). Both run as child processes, alternately; the best of the runs is compared.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeBundleFiles } from "../collect/demo-bundle.ts";
import { bundleFiles } from "../demo/build-bundle.ts";
import { largeClusterSpec } from "../demo/large-cluster.ts";
import { netnsUnavailable } from "../testing/capabilities.ts";

export const name = "diagnose";

const SIZE = { nodes: 20, services: 5_000, endpoints: 50_000 };
const RUNS = 2;
const DIR = resolve(".bench", `diagnose-${SIZE.nodes}n-${SIZE.services}s-${SIZE.endpoints}e`);
const CLI = resolve("dist/netdoctor.mjs");
/** Bump when the generator's output changes, so the cached bundle is regenerated. */
const GENERATOR_VERSION = "1";

async function bundleDir(): Promise<string> {
  const stamp = join(DIR, ".version");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === GENERATOR_VERSION) return DIR;
  process.stderr.write(`  generating ${DIR} (takes a while)...\n`);
  rmSync(DIR, { recursive: true, force: true });
  await writeBundleFiles(DIR, bundleFiles(largeClusterSpec(SIZE)));
  writeFileSync(stamp, GENERATOR_VERSION);
  return DIR;
}

async function timed(
  cmd: string,
  args: readonly string[],
): Promise<{ seconds: number; code: number; stderr: string }> {
  const start = performance.now();
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code] = (await once(child, "close")) as [number];
  return { seconds: (performance.now() - start) / 1000, code, stderr };
}

function q(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

export async function run(): Promise<string> {
  if (!existsSync(CLI)) throw new Error(`Cannot run the diagnose bench: ${CLI} is missing (npm run build)`);
  const dir = await bundleDir();
  const nodes = readFileSync(join(dir, "cluster/nodes.json"), "utf8").match(/"kind": "Node"/g)?.length ?? 0;
  const dumps = Array.from({ length: nodes }, (_, i) =>
    join(dir, "nodes", `node-${String(i + 1).padStart(2, "0")}`, "iptables-save.txt"),
  );
  const mb = dumps.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
  const rules = readFileSync(dumps[0]!, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("-A")).length;
  const noNetns = netnsUnavailable();
  const ns = `nd-diagnose-${process.pid}-0`;
  const ours: number[] = [];
  const theirs: number[] = [];
  if (noNetns === undefined) execFileSync("ip", ["netns", "add", ns]);
  try {
    for (let r = 0; r < RUNS; r++) {
      const a = await timed("node", [CLI, "diagnose", "--bundle", dir, "-o", "json"]);
      if (a.code !== 0)
        throw new Error(`netdoctor diagnose exited ${a.code} on the healthy bench bundle: ${a.stderr}`);
      ours.push(a.seconds);
      if (noNetns === undefined) {
        const script = dumps.map((f) => `iptables-restore --test < ${q(f)} || exit 1`).join("\n");
        const b = await timed("ip", ["netns", "exec", ns, "sh", "-c", script]);
        if (b.code !== 0) throw new Error(`iptables-restore --test failed: ${b.stderr}`);
        theirs.push(b.seconds);
      }
    }
  } finally {
    if (noNetns === undefined) execFileSync("ip", ["netns", "del", ns]);
  }
  const best = (v: number[]) => Math.min(...v);
  const version = execFileSync("iptables-restore", ["--version"], { encoding: "utf8" }).trim();
  const lines = [
    "## diagnose: full check of a 20-node bundle vs iptables-restore --test",
    "",
    `Bundle: ${nodes} nodes, ${SIZE.services} Services, ${SIZE.endpoints} endpoints; ${rules} rules per node dump, ${mb.toFixed(0)} MB of dumps in total. Best of ${RUNS} runs, wall time, on this machine.`,
    "",
    "| what | seconds |",
    "|---|---|",
    `| \`netdoctor diagnose --bundle DIR -o json\` (read + validate the API objects, scan, index and reconcile every node, known bugs) | ${best(ours).toFixed(2)} |`,
  ];
  if (theirs.length > 0) {
    lines.push(
      `| \`${version}\` \`--test\` on the ${nodes} dumps (parse only) | ${best(theirs).toFixed(2)} |`,
      "",
      `netdoctor's whole diagnosis takes ${(best(ours) / best(theirs)).toFixed(2)}x the time iptables-restore needs just to parse the dumps.`,
    );
  } else {
    lines.push(
      "",
      `iptables-restore column skipped: ${noNetns} (it must run in a throw-away network namespace, which needs root).`,
    );
  }
  return `${lines.join("\n")}\n`;
}
