/** `ip -j neigh show`: the ARP (IPv4) and NDP (IPv6) tables. */
import type { Evidence } from "../model/finding.ts";
import {
  type HostParseWarning,
  itemEvidence,
  itemObject,
  parseJsonArray,
  str,
  strings,
} from "./json-array.ts";

/** One neighbour entry. */
export interface IpNeighbor {
  readonly dst: string;
  readonly dev: string;
  /** Link-layer address, lower case; absent for FAILED / INCOMPLETE entries. */
  readonly lladdr?: string;
  /** NUD states as printed: `PERMANENT`, `REACHABLE`, `STALE`, `DELAY`, `PROBE`, `FAILED`, `INCOMPLETE`, `NOARP`. */
  readonly state: readonly string[];
  readonly evidence: Evidence;
}

export interface IpNeighTable {
  readonly neighbors: readonly IpNeighbor[];
  readonly warnings: readonly HostParseWarning[];
}

/**
 * Parses `ip -j neigh show`. Note that `ip neigh show` leaves out NOARP entries unless asked for
 * `nud all`; flannel's entries are PERMANENT and always shown.
 *
 * @throws {SyntaxError} When the text is not a JSON array.
 */
export function parseIpNeigh(text: string, options: { file: string }): IpNeighTable {
  const warnings: HostParseWarning[] = [];
  const neighbors: IpNeighbor[] = [];
  for (const item of parseJsonArray(text, options)) {
    const o = itemObject(options.file, item, warnings);
    if (o === undefined) continue;
    const dst = str(o, "dst");
    const dev = str(o, "dev");
    if (dst === undefined || dev === undefined) {
      warnings.push({
        file: options.file,
        line: item.line,
        text: JSON.stringify(o).slice(0, 200),
        reason: `$[${item.index}] has no "dst" or "dev"`,
      });
      continue;
    }
    const lladdr = str(o, "lladdr")?.toLowerCase();
    neighbors.push({
      dst,
      dev,
      ...(lladdr === undefined ? {} : { lladdr }),
      state: strings(o, "state"),
      evidence: itemEvidence(options.file, item),
    });
  }
  return { neighbors, warnings };
}

/** Whether an entry gives a usable link-layer address (not FAILED or INCOMPLETE). */
export function neighborResolves(n: IpNeighbor): boolean {
  return n.lladdr !== undefined && !n.state.includes("FAILED") && !n.state.includes("INCOMPLETE");
}
