/** Runs netdoctor's CLI from source (tsx), as the command tests do, and hands back what it printed. */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const MAIN = resolve("src/cli/main.ts");

/** What one run printed, and its exit code. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `netdoctor COMMAND ARGS...` from the checkout's source, in the project's root.
 *
 * @example
 * ```ts
 * runCliSource("trace", ["--dump", "d.txt", "--src", "10.42.0.9", "--dst", "10.43.0.1:443"]).code; // 0
 * ```
 */
export function runCliSource(command: string, args: readonly string[]): CliRun {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, command, ...args], {
    encoding: "utf8",
    cwd: resolve("."),
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
