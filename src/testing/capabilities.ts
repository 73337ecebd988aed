/**
 * What this machine lets tests do. A test that needs a capability the machine lacks
 * skips with the reason printed; under CI (CI=true) a missing capability is a failure,
 * because CI must run everything.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

function tryRun(cmd: string, args: readonly string[]): string | undefined {
  try {
    execFileSync(cmd, args, { stdio: "pipe", timeout: 10_000 });
    return undefined;
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    return (e.stderr?.toString().trim() || e.message).split("\n")[0];
  }
}

let netnsReason: string | undefined | null = null;

/** Why network namespaces with iptables cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (netnsReason !== null) return netnsReason;
  if (process.getuid?.() !== 0) return (netnsReason = "not running as root");
  for (const bin of ["/usr/sbin/ip", "/usr/sbin/iptables-restore", "/usr/sbin/iptables-save"]) {
    if (!existsSync(bin))
      return (netnsReason = `${bin} is not installed (apt-get install iptables iproute2)`);
  }
  const name = `nd-probe-${process.pid}`;
  const failed = tryRun("ip", ["netns", "add", name]);
  if (failed !== undefined) return (netnsReason = `cannot create a network namespace: ${failed}`);
  const ipt = tryRun("ip", ["netns", "exec", name, "iptables-save"]);
  tryRun("ip", ["netns", "del", name]);
  netnsReason = ipt === undefined ? undefined : `iptables does not work in a namespace: ${ipt}`;
  return netnsReason;
}

/** Why a command is missing, or undefined when it is on the PATH. */
export function commandUnavailable(command: string): string | undefined {
  const failed = tryRun("sh", ["-c", `command -v ${command}`]);
  return failed === undefined ? undefined : `"${command}" is not installed`;
}

/**
 * Returns true when the tests should be skipped, printing why. Under CI a missing capability throws:
 * CI installs everything the tests need, so a skip there would hide a broken setup.
 */
export function skipBecause(reason: string | undefined, what: string): boolean {
  if (reason === undefined) return false;
  if (process.env.CI === "true") throw new Error(`Cannot run ${what} in CI: ${reason}`);
  console.warn(`SKIP ${what}: ${reason}`);
  return true;
}
