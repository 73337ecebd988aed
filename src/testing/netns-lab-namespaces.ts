/**
 * The commands of the netns lab and its namespaces: named `nd-<area>-<pid>-<n>` so parallel test
 * processes never collide, deleted by the lab or, when a caller forgot, by a process exit hook.
 */
import { execFileSync } from "node:child_process";

let nsCounter = 0;
const liveNamespaces = new Set<string>();
let exitHook = false;

/** Runs `args` (bounded to 20 s) and returns its stdout; throws with its stderr when it fails. */
export function runCommand(args: readonly string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), {
    input,
    stdio: "pipe",
    timeout: 20_000,
    encoding: "utf8",
  });
}

/** Runs `args` inside namespace `ns`. */
export function nsExec(ns: string, args: readonly string[], input?: string): string {
  return runCommand(["ip", "netns", "exec", ns, ...args], input);
}

/** Creates a namespace for `area` with its loopback up and returns its name. */
export function newNamespace(area: string): string {
  const name = `nd-${area}-${process.pid}-${nsCounter++}`;
  runCommand(["ip", "netns", "add", name]);
  liveNamespaces.add(name);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const ns of liveNamespaces) {
        try {
          execFileSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: 5000 });
        } catch {
          // best effort on exit
        }
      }
    });
  }
  nsExec(name, ["ip", "link", "set", "lo", "up"]);
  return name;
}

/** Deletes namespace `ns` (and forgets it, even when the kernel refuses). */
export function deleteNamespace(ns: string): void {
  try {
    runCommand(["ip", "netns", "del", ns]);
  } finally {
    liveNamespaces.delete(ns);
  }
}
