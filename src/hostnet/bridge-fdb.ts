/**
 * `bridge -j fdb show`: forwarding database entries. For a VXLAN device an entry maps a remote
 * MAC (a peer's VTEP MAC) to the underlay IP the encapsulated frame is sent to (`dst`).
 */
import type { Evidence } from "../model/finding.ts";
import {
  type HostParseWarning,
  itemEvidence,
  itemObject,
  parseJsonArray,
  str,
  strings,
} from "./json-array.ts";

/** One FDB entry. */
export interface FdbEntry {
  /** Lower case. `00:00:00:00:00:00` is a VXLAN default (flood) destination. */
  readonly mac: string;
  readonly ifname: string;
  /** For VXLAN entries: the remote VTEP's underlay IP. */
  readonly dst?: string;
  readonly master?: string;
  /** `self`, `master`, `extern_learn`, ... */
  readonly flags: readonly string[];
  /** `permanent`, `static`, or empty for learned entries. */
  readonly state: string;
  readonly evidence: Evidence;
}

export interface FdbTable {
  readonly entries: readonly FdbEntry[];
  readonly warnings: readonly HostParseWarning[];
}

/**
 * Parses `bridge -j fdb show`.
 *
 * @throws {SyntaxError} When the text is not a JSON array.
 */
export function parseBridgeFdb(text: string, options: { file: string }): FdbTable {
  const warnings: HostParseWarning[] = [];
  const entries: FdbEntry[] = [];
  for (const item of parseJsonArray(text, options)) {
    const o = itemObject(options.file, item, warnings);
    if (o === undefined) continue;
    const mac = str(o, "mac")?.toLowerCase();
    const ifname = str(o, "ifname");
    if (mac === undefined || ifname === undefined) {
      warnings.push({
        file: options.file,
        line: item.line,
        text: JSON.stringify(o).slice(0, 200),
        reason: `$[${item.index}] has no "mac" or "ifname"`,
      });
      continue;
    }
    const dst = str(o, "dst");
    const master = str(o, "master");
    entries.push({
      mac,
      ifname,
      ...(dst === undefined ? {} : { dst }),
      ...(master === undefined ? {} : { master }),
      flags: strings(o, "flags"),
      state: str(o, "state") ?? "",
      evidence: itemEvidence(options.file, item),
    });
  }
  return { entries, warnings };
}
