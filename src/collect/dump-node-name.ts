import { basename, dirname, extname, resolve } from "node:path";

/**
 * The node a dump file belongs to: its base name without the extension (`w3.txt` is `w3`), except
 * a bundle's `nodes/NODE/iptables-save.txt`, which is named after its directory.
 *
 * @example
 * ```ts
 * dumpNodeName("b/nodes/agent1/iptables-save.txt"); // "agent1"
 * dumpNodeName("w3.txt"); // "w3"
 * ```
 */
export function dumpNodeName(file: string): string {
  const base = basename(file);
  const stem = base.slice(0, base.length - extname(base).length) || base;
  if (file === "-" || stem !== "iptables-save") return stem;
  const dir = basename(dirname(resolve(file)));
  return dir === "" ? stem : dir;
}
