/**
 * Wall time and peak memory of a shell command, for benches that compare netdoctor with the tools
 * people would otherwise use: both run as child processes, measured the same way.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** One run of a command. */
export interface Measure {
  readonly seconds: number;
  /** Peak resident memory in MB (MiB) of the largest process (a pipeline's processes are measured alike). */
  readonly peakMB: number;
}

export const hasGnuTime = existsSync("/usr/bin/time");

/**
 * Runs `sh -c script` and measures its wall time and the peak RSS of its largest process (GNU time's
 * `%M`, or VmHWM polled from /proc). The script's exit status must be 0 or 1 (1: problems found).
 */
export async function measure(script: string): Promise<Measure> {
  const start = performance.now();
  if (hasGnuTime) {
    const child = spawn("/usr/bin/time", ["-f", "%x %M", "sh", "-c", script], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    await once(child, "close");
    const seconds = (performance.now() - start) / 1000;
    const [code, kb] = (stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
    if (!Number.isFinite(kb) || (code !== 0 && code !== 1)) {
      throw new Error(`Cannot measure "${script}" (exit ${code}): ${stderr.slice(-2000)}`);
    }
    return { seconds, peakMB: kb! / 1024 };
  }
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
  const [code] = (await once(child, "close")) as [number];
  clearInterval(timer);
  if (code !== 0 && code !== 1) throw new Error(`Cannot measure "${script}": exit ${code}`);
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

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median wall time and the highest peak RSS of several runs. */
export function summary(runs: readonly Measure[]): Measure {
  return { seconds: median(runs.map((m) => m.seconds)), peakMB: Math.max(...runs.map((m) => m.peakMB)) };
}

/** A path quoted for `sh -c`. */
export function quote(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

/** The 1-minute load average, to say how busy the shared machine was during a measurement. */
export function load(): string {
  return loadavg()[0]!.toFixed(1);
}
