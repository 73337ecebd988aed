/**
 * A throw-away network namespace for asking the real `ipset` what it writes: ipsets live per
 * network namespace, so sets made here never touch the machine's own. Names are
 * `nd-ipset-<pid>-<n>`; the namespace is deleted when the callback returns or throws.
 */
import { execFileSync } from "node:child_process";
import { commandUnavailable, netnsUnavailable } from "./capabilities.ts";

let counter = 0;

/** Why the real ipset cannot be used in a namespace here, or undefined when it can. */
export function ipsetNetnsUnavailable(): string | undefined {
  return netnsUnavailable() ?? commandUnavailable("ipset");
}

/** Runs `fn` with a function that executes a command inside a fresh namespace. */
export function withIpsetNamespace<T>(
  fn: (run: (args: readonly string[], input?: string) => string) => T,
): T {
  const ns = `nd-ipset-${process.pid}-${counter++}`;
  execFileSync("ip", ["netns", "add", ns], { stdio: "pipe", timeout: 10_000 });
  try {
    return fn((args, input) =>
      execFileSync("ip", ["netns", "exec", ns, ...args], {
        input,
        stdio: "pipe",
        timeout: 20_000,
        encoding: "utf8",
      }),
    );
  } finally {
    execFileSync("ip", ["netns", "del", ns], { stdio: "pipe", timeout: 10_000 });
  }
}
