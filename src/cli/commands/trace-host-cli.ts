/**
 * `netdoctor trace --bundle DIR --node N` over the whole host: when the node directory has
 * nft-ruleset.json, the packet is traced through every table (legacy, iptables-nft, native nft) at
 * each hook; the output names the tables read and those that could not be.
 */
import { type HostTraceNode, hostTraceNode } from "../../collect/host-trace-node.ts";
import type { TraceNode } from "../../collect/read-trace-node.ts";
import type { Ruleset } from "../../model/ruleset.ts";
import type { TraceResult } from "../../model/trace.ts";
import { terminalSafe } from "../../text/terminal-safe.ts";
import type { TraceOptions } from "../../trace/trace-request.ts";
import type { TraceCliOptions } from "./trace-options.ts";

/** The whole-host trace of a bundle node, or undefined without a bundle. */
export async function wholeHostOf(
  opts: TraceCliOptions,
  source: { readonly node?: TraceNode },
  traced: TraceResult,
  iptables: {
    readonly ruleset: Ruleset;
    readonly file: string;
    /** ipsets and bridge crossing for the iptables chains' `-m set` / `-m physdev` rules. */
    readonly extras?: Pick<TraceOptions, "ipsets" | "bridged">;
  },
): Promise<HostTraceNode | undefined> {
  const node = source.node;
  if (opts.bundle === undefined || node === undefined) return undefined;
  const f = traced.flow;
  const localIps = [...node.addresses.map((a) => a.address), ...(opts.localIp ?? [])];
  return hostTraceNode(opts.bundle, node.node, {
    request: {
      packet: {
        protocol: f.protocol,
        srcIp: f.srcIp,
        dstIp: f.dstIp,
        ...(f.srcPort === undefined ? {} : { srcPort: f.srcPort }),
        ...(f.dstPort === undefined ? {} : { dstPort: f.dstPort }),
      },
      from: f.ingress,
      node: node.node,
      ...(localIps.length === 0 ? {} : { localIps }),
      ...(opts.inInterface === undefined ? {} : { inInterface: opts.inInterface }),
    },
    iptables,
  });
}

/**
 * For an IPVS-mode node: the whole-host walk's result is dropped (it does not simulate IPVS, and
 * would deliver a virtual server's packet to the node itself); the native nftables tables it read
 * are listed as not looked at, since only iptables-save.txt and ipvsadm.txt were traced.
 */
export function withoutIpvsWalk(host: HostTraceNode | undefined): HostTraceNode | undefined {
  if (host?.result === undefined) return host;
  const { result: _dropped, ...rest } = host;
  const native = host.tables.filter((t) => t.startsWith("nft "));
  return {
    ...rest,
    wholeHost: false,
    tables: [],
    notRead: [
      ...host.notRead,
      ...native.map(
        (t) =>
          `${t} (the whole-host walk does not simulate IPVS: traced through iptables-save.txt and ipvsadm.txt)`,
      ),
    ],
  };
}

/** The JSON fields: `tables` read, `notRead` with why, ordering `assumptions`, a whole-host `hostError`. */
export function hostFields(host: HostTraceNode | undefined): Record<string, unknown> {
  if (host === undefined) return {};
  return {
    wholeHost: host.result !== undefined,
    tables: host.tables,
    notRead: host.notRead,
    ...(host.assumptions.length === 0 ? {} : { assumptions: host.assumptions }),
    ...(host.error === undefined ? {} : { hostError: host.error }),
  };
}

/** The text lines after the paths. */
export function hostText(host: HostTraceNode | undefined, ipvs = false): string {
  if (host === undefined) return "";
  const lines: string[] = [""];
  if (host.result !== undefined)
    lines.push(`Tables read (at each hook they run in priority order): ${host.tables.join(", ")}`);
  else lines.push(`Traced through iptables-save.txt${ipvs ? " and ipvsadm.txt (IPVS)" : ""} only.`);
  for (const n of host.notRead) lines.push(`Not looked at: ${n}`);
  for (const a of host.assumptions) lines.push(`Assumed: ${a}`);
  if (host.error !== undefined) lines.push(`Whole-host trace failed: ${host.error}`);
  return `${lines.map((l) => terminalSafe(l)).join("\n")}\n`;
}
