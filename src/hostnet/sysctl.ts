/**
 * `sysctl -a` output (filtered at collection to forwarding, rp_filter and bridge-nf keys): the
 * kernel settings a cross-node path depends on.
 */
import type { Evidence } from "../model/finding.ts";
import type { HostParseWarning } from "./json-array.ts";
import { lineEvidence, splitLines } from "./text-lines.ts";

/** One `key = value` line. */
export interface SysctlValue {
  readonly key: string;
  readonly value: string;
  readonly evidence: Evidence;
}

export interface SysctlTable {
  /** By key as printed (`net.ipv4.conf.flannel/1.rp_filter`: sysctl prints a dot in an interface name as `/`). */
  readonly values: ReadonlyMap<string, SysctlValue>;
  readonly warnings: readonly HostParseWarning[];
}

/**
 * Parses `sysctl -a` (or `sysctl KEY...`) output: `key = value` per line. Lines that are not in
 * that shape (e.g. `sysctl: permission denied on key ...`) become warnings.
 */
export function parseSysctl(text: string, options: { file: string }): SysctlTable {
  const values = new Map<string, SysctlValue>();
  const warnings: HostParseWarning[] = [];
  splitLines(text).forEach((raw, i) => {
    if (raw.trim() === "") return;
    const m = /^\s*([^\s=]+)\s*=\s?(.*)$/.exec(raw);
    if (m === null) {
      warnings.push({
        file: options.file,
        line: i + 1,
        text: raw.slice(0, 200),
        reason: "not a key = value line",
      });
      return;
    }
    values.set(m[1]!, { key: m[1]!, value: m[2]!.trim(), evidence: lineEvidence(options.file, i + 1, raw) });
  });
  return { values, warnings };
}

/** The sysctl key of a per-interface setting: dots in the interface name become `/`, as sysctl prints them. */
export function interfaceKey(setting: string, ifname: string, family: "ipv4" = "ipv4"): string {
  return `net.${family}.conf.${ifname.replaceAll(".", "/")}.${setting}`;
}

/** A numeric value, or undefined when the key is absent or not a number. */
export function sysctlNumber(
  table: SysctlTable,
  key: string,
): { value: number; evidence: Evidence } | undefined {
  const v = table.values.get(key);
  if (v === undefined || !/^-?\d+$/.test(v.value)) return undefined;
  return { value: Number(v.value), evidence: v.evidence };
}

/**
 * The rp_filter the kernel applies on `ifname`: the maximum of `conf.all` and `conf.IF`
 * (Documentation/networking/ip-sysctl.rst, "rp_filter": "The max value from conf/{all,interface}/rp_filter
 * is used when doing source validation on the {interface}"). Undefined when either is missing.
 */
export function effectiveRpFilter(
  table: SysctlTable,
  ifname: string,
): { value: number; evidence: readonly Evidence[] } | undefined {
  const all = sysctlNumber(table, "net.ipv4.conf.all.rp_filter");
  const dev = sysctlNumber(table, interfaceKey("rp_filter", ifname));
  if (all === undefined || dev === undefined) return undefined;
  const value = Math.max(all.value, dev.value);
  const evidence = [all, dev].filter((x) => x.value === value).map((x) => x.evidence);
  return { value, evidence };
}
