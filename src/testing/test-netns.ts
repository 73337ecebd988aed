/**
 * A bare throw-away network namespace (loopback up, nothing else) for tests that need one as a node's
 * own namespace, e.g. to run a hostNetwork container in. Named `nd-<area>-<pid>-<n>`; an exit hook
 * deletes any the test forgot. (src/testing/netns-lab.ts builds whole topologies on the same idea.)
 */
import { execFileSync, spawnSync } from "node:child_process";

let counter = 0;
const live = new Set<string>();
let hooked = false;

/** A namespace and a way to run commands in it. */
export interface TestNetns {
  readonly name: string;
  /** Runs a command in the namespace; throws with its stderr when it fails. */
  exec(argv: readonly string[], input?: string): string;
  destroy(): void;
}

/** Creates `nd-<area>-<pid>-<n>` with its loopback up. */
export function createTestNetns(area: string): TestNetns {
  const name = `nd-${area}-${process.pid}-${counter++}`;
  execFileSync("ip", ["netns", "add", name], { stdio: "pipe" });
  live.add(name);
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const ns of live) {
        try {
          execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
        } catch {
          // best effort on exit
        }
      }
    });
  }
  const exec = (argv: readonly string[], input?: string): string => {
    try {
      return execFileSync("ip", ["netns", "exec", name, ...argv], {
        encoding: "utf8",
        stdio: "pipe",
        maxBuffer: 256 << 20,
        ...(input === undefined ? {} : { input }),
      });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`${argv.join(" ")} in ${name} failed: ${e.stderr || e.message}`);
    }
  };
  exec(["ip", "link", "set", "lo", "up"]);
  return {
    name,
    exec,
    destroy: () => {
      if (!live.has(name)) return;
      execFileSync("ip", ["netns", "del", name], { stdio: "pipe" });
      live.delete(name);
    },
  };
}

/** What {@linkcode fetchInNetns} got: the status and body, or why nothing answered. */
export type NetnsFetch =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly problem: string };

const FETCH_SCRIPT =
  "fetch(process.argv[1],{signal:AbortSignal.timeout(10000)}).then(async r=>{process.stdout.write(r.status+'\\n'+await r.text())},e=>{console.error(String(e.cause??e));process.exit(7)})";

/**
 * GETs a URL from inside a namespace (a Node process started there with `ip netns exec`): how a
 * test reaches a server that listens in a namespace with no link to the machine's.
 */
export function fetchInNetns(ns: string, url: string): NetnsFetch {
  const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, "-e", FETCH_SCRIPT, url], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) return { ok: false, problem: `exit ${r.status}: ${r.stderr.trim()}${r.error ?? ""}` };
  const nl = r.stdout.indexOf("\n");
  return { ok: true, status: Number(r.stdout.slice(0, nl)), body: r.stdout.slice(nl + 1) };
}
