/**
 * `npm run bench -- collect`: the two costs of `netdoctor collect` that netdoctor controls.
 *
 * 1. Decoding a collector pod's log (gzip + base64 frames) of a leaked node (180,000 duplicated
 *    rules + 20,000 others) into iptables-save.txt, against the pipeline a person would run on the
 *    same log by hand: `sed -n '/^@@begin iptables-save stdout/,/^@@end/p' | grep -v '^@@' | base64 -d | gzip -d`.
 * 2. Wall time of 200 nodes at concurrency 20 against the fake API server on loopback, with pods that
 *    take 500 ms from creation to completion, against the ideal (200 / 20 x 500 ms): the overhead of
 *    polling, log reads and deletes.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectBundle } from "../collect/collect-bundle.ts";
import { readFrames } from "../collect/frame-reader.ts";
import { FakeKubeApi } from "../testing/fake-kube-api.ts";
import { encodeFrames } from "../testing/frame-encoder.ts";

export const name = "collect";

const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function leakedDump(): string {
  const lines = ["*filter", ":INPUT ACCEPT [0:0]", ":KUBE-FIREWALL - [0:0]"];
  for (let i = 0; i < 180_000; i++) {
    lines.push(
      '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
    );
  }
  for (let i = 0; i < 20_000; i++) lines.push(`-A INPUT -s 198.18.${i >> 8}.${i & 255}/32 -j ACCEPT`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}

async function* chunks(text: string): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += 65536) yield text.slice(i, i + 65536);
}

async function decodeSection(work: string): Promise<string> {
  const dump = leakedDump();
  const log = encodeFrames([{ stem: "iptables-save", stdout: dump, stderr: "", exit: 0 }]);
  const logFile = join(work, "pod.log");
  writeFileSync(logFile, log);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = join(work, `d${i}`);
    mkdirSync(dir);
    let t = performance.now();
    await readFrames(chunks(log), { dir, source: "bench" });
    ours.push(performance.now() - t);
    t = performance.now();
    execFileSync("sh", [
      "-c",
      `sed -n '/^@@begin iptables-save stdout/,/^@@end/p' '${logFile}' | grep -v '^@@' | base64 -d | gzip -d > '${join(dir, "by-hand.txt")}'`,
    ]);
    theirs.push(performance.now() - t);
    if (statSync(join(dir, "by-hand.txt")).size !== Buffer.byteLength(dump))
      throw new Error("pipeline output differs");
  }
  const mb = (Buffer.byteLength(dump) / 1e6).toFixed(1);
  const logMb = (Buffer.byteLength(log) / 1e6).toFixed(2);
  return [
    `### Decoding a leaked node's pod log (${mb} MB dump, ${logMb} MB log, median of ${RUNS})`,
    "",
    "| | time |",
    "|---|---|",
    `| netdoctor readFrames (verifies byte counts, streams to disk) | ${median(ours).toFixed(0)} ms |`,
    `| sed \\| grep \\| base64 -d \\| gzip -d | ${median(theirs).toFixed(0)} ms |`,
    `| ratio (netdoctor / pipeline) | ${(median(ours) / median(theirs)).toFixed(2)} |`,
    "",
  ].join("\n");
}

async function fleetSection(work: string): Promise<string> {
  const nodes = Array.from({ length: 200 }, (_, i) => ({ name: `node-${i}` }));
  const api = new FakeKubeApi({ nodes, pendingMs: 250, runningMs: 250 });
  await api.start();
  try {
    const kubeconfig = api.writeKubeconfig(work);
    const t = performance.now();
    const summary = await collectBundle({
      out: join(work, "fleet"),
      via: "pod",
      kubeconfig,
      concurrency: 20,
    });
    const ms = performance.now() - t;
    const ok = summary.nodes.filter((n) => n.status === "ok").length;
    const ideal = (200 / 20) * 500;
    return [
      "### 200 nodes, concurrency 20, pods living 500 ms (fake API on loopback)",
      "",
      "| | time |",
      "|---|---|",
      `| netdoctor collect (${ok}/200 collected, ${api.livePods().length} pods left) | ${(ms / 1000).toFixed(1)} s |`,
      `| ideal: 10 waves x 500 ms, zero overhead | ${(ideal / 1000).toFixed(1)} s |`,
      `| a sequential loop over the nodes, same pods (computed: 200 x 500 ms) | ${((200 * 500) / 1000).toFixed(1)} s |`,
      "",
    ].join("\n");
  } finally {
    await api.close();
  }
}

export async function run(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "nd-bench-collect-"));
  try {
    return `## collect\n\n${await decodeSection(work)}\n${await fleetSection(work)}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
