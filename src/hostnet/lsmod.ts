/** `lsmod` output: which kernel modules are loaded (built-in ones never appear). */
import type { Evidence } from "../model/finding.ts";
import type { HostParseWarning } from "./json-array.ts";
import { lineEvidence, splitLines } from "./text-lines.ts";

/** One loaded module. */
export interface KernelModule {
  readonly name: string;
  readonly size: number;
  readonly usedBy: number;
  readonly holders: readonly string[];
  readonly evidence: Evidence;
}

export interface LsmodTable {
  readonly modules: ReadonlyMap<string, KernelModule>;
  readonly warnings: readonly HostParseWarning[];
}

/**
 * Parses `lsmod`: a `Module Size Used by` header, then `name size count [holder,holder]`.
 * A module missing from the list may still be built into the kernel: only the sysctls a module
 * creates (e.g. `net.bridge.bridge-nf-call-iptables` for br_netfilter) prove it is absent.
 */
export function parseLsmod(text: string, options: { file: string }): LsmodTable {
  const modules = new Map<string, KernelModule>();
  const warnings: HostParseWarning[] = [];
  splitLines(text).forEach((raw, i) => {
    if (raw.trim() === "" || /^Module\s+Size\s+Used by/.test(raw)) return;
    const m = /^(\S+)\s+(\d+)\s+(-?\d+)\s*(\S*)/.exec(raw);
    if (m === null) {
      warnings.push({
        file: options.file,
        line: i + 1,
        text: raw.slice(0, 200),
        reason: "not an lsmod line",
      });
      return;
    }
    modules.set(m[1]!, {
      name: m[1]!,
      size: Number(m[2]),
      usedBy: Number(m[3]),
      holders: (m[4] ?? "").split(",").filter((h) => h !== "" && h !== "-"),
      evidence: lineEvidence(options.file, i + 1, raw),
    });
  });
  return { modules, warnings };
}
