/**
 * A throw-away network namespace for loading rulesets with the real `iptables-restore` and reading
 * them back with the real `iptables-save` ("real iptables-save output is the format authority").
 * Namespaces are named `nd-<area>-<pid>-<n>`; `destroy()` deletes one, and a process exit hook
 * deletes any a test forgot. Nothing here touches the machine's own namespace.
 *
 * @example
 * ```ts
 * const ns = createIptablesNetns("parse");
 * try {
 *   ns.restore(text, { backend: "nft", counters: true });
 *   const saved = ns.save({ backend: "nft", counters: true });
 * } finally {
 *   ns.destroy();
 * }
 * ```
 */
import { execFileSync } from "node:child_process";

/** Which iptables binaries to use: `iptables-nft-*` or `iptables-legacy-*`. */
export type IptablesBackend = "nft" | "legacy";

export interface IptablesNetns {
  readonly name: string;
  /** Loads a ruleset with `iptables-<backend>-restore` (`-c` keeps `[p:b]` counters). */
  restore(text: string, options: { readonly backend: IptablesBackend; readonly counters?: boolean }): void;
  /** Runs `iptables-<backend>-save` (`-c` for counters); `withStderr` appends what it printed on stderr first. */
  save(options: {
    readonly backend: IptablesBackend;
    readonly counters?: boolean;
    readonly withStderr?: boolean;
  }): string;
  /** Runs a command inside the namespace and returns its stdout. */
  exec(command: string, args: readonly string[]): string;
  destroy(): void;
}

const live = new Set<string>();
let hooked = false;
let counter = 0;

function deleteNamespace(name: string): void {
  try {
    execFileSync("ip", ["netns", "del", name], { stdio: "pipe", timeout: 10_000 });
  } catch {
    // Already gone.
  }
  live.delete(name);
}

/** Creates a namespace `nd-<area>-<pid>-<n>` with only a loopback interface. */
export function createIptablesNetns(area: string): IptablesNetns {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const name of [...live]) deleteNamespace(name);
    });
  }
  const name = `nd-${area}-${process.pid}-${++counter}`;
  execFileSync("ip", ["netns", "add", name], { stdio: "pipe", timeout: 10_000 });
  live.add(name);
  const exec = (command: string, args: readonly string[], input?: string): string =>
    execFileSync("ip", ["netns", "exec", name, command, ...args], {
      input,
      encoding: "utf8",
      stdio: "pipe",
      timeout: 60_000,
      maxBuffer: 256 << 20,
    });
  return {
    name,
    restore(text, { backend, counters = false }) {
      exec(`iptables-${backend}-restore`, counters ? ["-c"] : [], text);
    },
    save({ backend, counters = false, withStderr = false }) {
      if (!withStderr) return exec(`iptables-${backend}-save`, counters ? ["-c"] : []);
      // Users paste `iptables-save 2>&1`: iptables prints its warnings on stderr before the dump.
      return exec("sh", ["-c", `iptables-${backend}-save ${counters ? "-c " : ""}2>&1`]);
    },
    exec: (command, args) => exec(command, args),
    destroy() {
      deleteNamespace(name);
    },
  };
}
