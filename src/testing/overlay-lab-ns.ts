/**
 * Namespace and process plumbing for the overlay lab (overlay-lab.ts): unique names
 * `nd-<area>-<pid>-<n>`, an exit hook that deletes forgotten namespaces, and line-oriented agents.
 * The same pattern as netns-lab.ts, kept separate so that file stays as it is.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";

let counter = 0;
const live = new Set<string>();
let hooked = false;

/** Runs a command; throws with its stderr when it fails. */
export function run(args: readonly string[], input?: string): string {
  try {
    return execFileSync(args[0]!, args.slice(1), { input, stdio: "pipe", timeout: 20_000, encoding: "utf8" });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`overlay lab: ${args.join(" ")}: ${(e.stderr || e.message).trim()}`);
  }
}

/** Runs a command in a namespace. */
export function nsRun(ns: string, args: readonly string[], input?: string): string {
  return run(["ip", "netns", "exec", ns, ...args], input);
}

/** Runs a command in a namespace and returns its exit code and output instead of throwing. */
export function nsTry(ns: string, args: readonly string[]): { exit: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync("ip", ["netns", "exec", ns, ...args], {
      stdio: "pipe",
      timeout: 60_000,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    return { exit: 0, stdout, stderr: "" };
  } catch (error) {
    const e = error as { status?: number | null; stdout?: string; stderr?: string; message: string };
    return { exit: e.status ?? 255, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
  }
}

/** Creates a namespace with `lo` up. */
export function newNamespace(area: string): string {
  const name = `nd-${area}-${process.pid}-${counter++}`;
  run(["ip", "netns", "add", name]);
  live.add(name);
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const ns of live) {
        try {
          execFileSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: 5000 });
        } catch {
          // best effort on exit
        }
      }
    });
  }
  nsRun(name, ["ip", "link", "set", "lo", "up"]);
  return name;
}

/** Deletes a namespace made by {@linkcode newNamespace}. */
export function deleteNamespace(ns: string): void {
  try {
    run(["ip", "netns", "del", ns]);
  } finally {
    live.delete(ns);
  }
}

/**
 * Writes `value` to the sysctl `key` inside a namespace (no sysctl binary needed). As with sysctl,
 * a dot inside an interface name is written `/` (`net.ipv4.conf.flannel/1.rp_filter`).
 */
export function setSysctl(ns: string, key: string, value: string | number): void {
  const path = key
    .split(".")
    .map((part) => part.replaceAll("/", "."))
    .join("/");
  nsRun(ns, ["sh", "-c", `echo ${value} > /proc/sys/${path}`]);
}

/** A node process in a namespace that talks in lines. */
export interface Agent {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
}

/** Starts `node -e script args...` in a namespace. */
export function startAgent(ns: string, script: string, args: readonly string[]): Agent {
  const proc = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += String(d)));
  proc.on("exit", (code) => {
    if (code !== 0 && code !== null && stderr) process.stderr.write(`overlay lab agent in ${ns}: ${stderr}`);
  });
  return { proc, lines: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() };
}

/** The agent's next line, or an error after `ms` (a bound, not a synchronisation). */
export async function nextLine(agent: Agent, ms: number, what: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`overlay lab: ${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    const r = await Promise.race([agent.lines.next(), timeout]);
    if (r.done) throw new Error(`overlay lab: ${what} exited`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Ends an agent and waits for it to exit. */
export async function stopAgent(agent: Agent): Promise<void> {
  agent.proc.stdin.end();
  agent.proc.kill("SIGKILL");
  if (agent.proc.exitCode === null && agent.proc.signalCode === null) {
    await new Promise((r) => agent.proc.once("exit", r));
  }
}

/**
 * Why the kernel cannot give the overlay lab what it needs (VXLAN and bridge devices in a
 * namespace), or undefined when it can. Call after `netnsUnavailable()`.
 */
export function overlayUnavailable(): string | undefined {
  const ns = `nd-ovlprobe-${process.pid}`;
  try {
    execFileSync("ip", ["netns", "add", ns], { stdio: "pipe", timeout: 10_000 });
  } catch (error) {
    return `cannot create a network namespace: ${(error as Error).message.split("\n")[0]}`;
  }
  try {
    for (const args of [
      ["link", "add", "br-probe", "type", "bridge"],
      ["link", "add", "vx-probe", "type", "vxlan", "id", "1", "dstport", "8472", "nolearning"],
    ]) {
      try {
        execFileSync("ip", ["-n", ns, ...args], { stdio: "pipe", timeout: 10_000 });
      } catch (error) {
        const e = error as { stderr?: Buffer; message: string };
        return `the kernel refuses "ip link add ${args.slice(2).join(" ")}": ${(e.stderr?.toString() || e.message).trim()}`;
      }
    }
    return undefined;
  } finally {
    execFileSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: 10_000 });
  }
}
