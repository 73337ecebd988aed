/** `ethtool -k IFACE` output: offload features, for the VXLAN checksum-offload known bug. */
import type { Evidence } from "../model/finding.ts";
import type { HostParseWarning } from "./json-array.ts";
import { lineEvidence, splitLines } from "./text-lines.ts";

/** One feature line: `tx-checksum-ip-generic: on`, `rx-vlan-offload: off [fixed]`. */
export interface EthtoolFeature {
  readonly name: string;
  readonly on: boolean;
  /** `[fixed]`: the driver does not let it change. */
  readonly fixed: boolean;
  readonly evidence: Evidence;
}

export interface EthtoolFeatures {
  /** The interface named on the `Features for IFACE:` line; undefined for empty output. */
  readonly ifname?: string;
  readonly features: ReadonlyMap<string, EthtoolFeature>;
  readonly warnings: readonly HostParseWarning[];
}

/**
 * Parses `ethtool -k IFACE`. Empty text means the collector found no such interface (the
 * collection command prints nothing when `flannel.1` does not exist).
 */
export function parseEthtoolFeatures(text: string, options: { file: string }): EthtoolFeatures {
  const features = new Map<string, EthtoolFeature>();
  const warnings: HostParseWarning[] = [];
  let ifname: string | undefined;
  splitLines(text).forEach((raw, i) => {
    if (raw.trim() === "") return;
    const header = /^Features for (.+):$/.exec(raw);
    if (header !== null) {
      ifname = header[1];
      return;
    }
    const m = /^\s*([A-Za-z0-9_-]+):\s+(on|off)(\s+\[([^\]]*)\])?\s*$/.exec(raw);
    if (m === null) {
      warnings.push({
        file: options.file,
        line: i + 1,
        text: raw.slice(0, 200),
        reason: "not a feature line",
      });
      return;
    }
    features.set(m[1]!, {
      name: m[1]!,
      on: m[2] === "on",
      fixed: m[4] === "fixed",
      evidence: lineEvidence(options.file, i + 1, raw),
    });
  });
  return { ...(ifname === undefined ? {} : { ifname }), features, warnings };
}
