/**
 * `/run/flannel/subnet.env`, written by flannel (and k3s's embedded flannel) when it has its lease:
 * `FLANNEL_NETWORK`, `FLANNEL_SUBNET` (first address of the node's pod CIDR), `FLANNEL_MTU`
 * (the overlay MTU: underlay MTU minus the 50-byte VXLAN overhead) and `FLANNEL_IPMASQ`.
 */
import type { Evidence } from "../model/finding.ts";
import type { HostParseWarning } from "./json-array.ts";
import { lineEvidence, splitLines } from "./text-lines.ts";

export interface SubnetEnvValue {
  readonly value: string;
  readonly evidence: Evidence;
}

export interface SubnetEnv {
  /** Every `KEY=value` line, by key. */
  readonly values: ReadonlyMap<string, SubnetEnvValue>;
  readonly network?: SubnetEnvValue;
  readonly subnet?: SubnetEnvValue;
  readonly mtu?: { readonly value: number; readonly evidence: Evidence };
  readonly warnings: readonly HostParseWarning[];
}

/** Parses a flannel `subnet.env` (shell-style `KEY=value` lines; comments and blanks ignored). */
export function parseSubnetEnv(text: string, options: { file: string }): SubnetEnv {
  const values = new Map<string, SubnetEnvValue>();
  const warnings: HostParseWarning[] = [];
  splitLines(text).forEach((raw, i) => {
    const t = raw.trim();
    if (t === "" || t.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t);
    if (m === null) {
      warnings.push({
        file: options.file,
        line: i + 1,
        text: raw.slice(0, 200),
        reason: "not a KEY=value line",
      });
      return;
    }
    const value = m[2]!.replace(/^"(.*)"$/, "$1");
    values.set(m[1]!, { value, evidence: lineEvidence(options.file, i + 1, raw) });
  });
  const mtuText = values.get("FLANNEL_MTU");
  const mtu =
    mtuText !== undefined && /^\d+$/.test(mtuText.value)
      ? { value: Number(mtuText.value), evidence: mtuText.evidence }
      : undefined;
  const network = values.get("FLANNEL_NETWORK");
  const subnet = values.get("FLANNEL_SUBNET");
  return {
    values,
    ...(network === undefined ? {} : { network }),
    ...(subnet === undefined ? {} : { subnet }),
    ...(mtu === undefined ? {} : { mtu }),
    warnings,
  };
}
