/**
 * The memory of a container as its cgroup counts it (cgroup v1's memory controller or the v2 tree),
 * for benches that measure what a container needs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A memory cgroup directory and its version. */
export interface MemoryCgroup {
  readonly dir: string;
  readonly v2: boolean;
}

/** The memory cgroup directory of a process (cgroup v1 memory controller, or the v2 unified tree). */
export function memoryCgroup(pid: number): MemoryCgroup {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  const v1 = lines.find((l) => /^\d+:memory:/.test(l));
  if (v1 !== undefined) return { dir: join("/sys/fs/cgroup/memory", v1.split(":")[2]!), v2: false };
  return { dir: join("/sys/fs/cgroup", lines.find((l) => l.startsWith("0::"))!.slice(3)), v2: true };
}

/** Memory the container holds that page cache reclaim cannot free: anonymous memory (RSS), all its processes. */
export function rssBytes(cg: MemoryCgroup): number {
  const stat = readFileSync(join(cg.dir, "memory.stat"), "utf8");
  const get = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, "m").exec(stat)?.[1] ?? 0);
  return cg.v2 ? get("anon") : get("total_rss") + get("total_rss_huge");
}

/** The cgroup's peak usage, page cache included. */
export function usagePeak(cg: MemoryCgroup): number {
  return Number(readFileSync(join(cg.dir, cg.v2 ? "memory.peak" : "memory.max_usage_in_bytes"), "utf8"));
}
