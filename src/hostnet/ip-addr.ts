/** `ip -j addr show`: every interface's addresses, for "which interface holds this IP". */
import type { Evidence } from "../model/finding.ts";
import {
  type HostParseWarning,
  itemEvidence,
  itemObject,
  type JsonObject,
  num,
  parseJsonArray,
  str,
  strings,
} from "./json-array.ts";

/** One `addr_info` entry. */
export interface IpAddress {
  readonly family: "inet" | "inet6";
  readonly local: string;
  readonly prefixlen: number;
  readonly scope?: string;
}

/** One interface of `ip -j addr show`. */
export interface IpAddrInterface {
  readonly ifindex: number;
  readonly ifname: string;
  readonly flags: readonly string[];
  readonly mtu?: number;
  readonly master?: string;
  readonly address?: string;
  readonly addresses: readonly IpAddress[];
  readonly evidence: Evidence;
}

export interface IpAddrTable {
  readonly interfaces: readonly IpAddrInterface[];
  readonly warnings: readonly HostParseWarning[];
}

function addresses(o: JsonObject): IpAddress[] {
  const list = o.addr_info;
  if (!Array.isArray(list)) return [];
  const out: IpAddress[] = [];
  for (const a of list) {
    if (typeof a !== "object" || a === null) continue;
    const ao = a as JsonObject;
    const family = str(ao, "family");
    const local = str(ao, "local");
    const prefixlen = num(ao, "prefixlen");
    if ((family !== "inet" && family !== "inet6") || local === undefined || prefixlen === undefined) continue;
    const scope = str(ao, "scope");
    out.push({ family, local, prefixlen, ...(scope === undefined ? {} : { scope }) });
  }
  return out;
}

/**
 * Parses `ip -j addr show`.
 *
 * @example
 * ```ts
 * const { interfaces } = parseIpAddr(text, { file: "nodes/a/ip-addr.json" });
 * interfaces.find((i) => i.addresses.some((a) => a.local === "198.19.255.11"))?.ifname; // "eth0"
 * ```
 * @throws {SyntaxError} When the text is not a JSON array.
 */
export function parseIpAddr(text: string, options: { file: string }): IpAddrTable {
  const warnings: HostParseWarning[] = [];
  const interfaces: IpAddrInterface[] = [];
  for (const item of parseJsonArray(text, options)) {
    const o = itemObject(options.file, item, warnings);
    if (o === undefined) continue;
    const ifindex = num(o, "ifindex");
    const ifname = str(o, "ifname");
    if (ifindex === undefined || ifname === undefined) {
      warnings.push({
        file: options.file,
        line: item.line,
        text: JSON.stringify(o).slice(0, 200),
        reason: `$[${item.index}] has no "ifindex" or "ifname"`,
      });
      continue;
    }
    const mtu = num(o, "mtu");
    const master = str(o, "master");
    const address = str(o, "address")?.toLowerCase();
    interfaces.push({
      ifindex,
      ifname,
      flags: strings(o, "flags"),
      ...(mtu === undefined ? {} : { mtu }),
      ...(master === undefined ? {} : { master }),
      ...(address === undefined ? {} : { address }),
      addresses: addresses(o),
      evidence: itemEvidence(options.file, item),
    });
  }
  return { interfaces, warnings };
}
