/**
 * `ip -j -d link show`: the node's interfaces with their MTU, MAC, bridge master and, for VXLAN
 * devices, the VNI, the local (source) address, the underlay device and the UDP port.
 */
import type { Evidence } from "../model/finding.ts";
import {
  bool,
  type HostParseWarning,
  itemEvidence,
  itemObject,
  num,
  obj,
  parseJsonArray,
  str,
  strings,
} from "./json-array.ts";

/** `linkinfo.info_data` of a `vxlan` link. */
export interface VxlanInfo {
  /** The VNI (flannel: 1 unless configured). */
  readonly id?: number;
  /** Source address of the encapsulated packets (`local`); flannel sets the public IP. */
  readonly local?: string;
  /** The underlay device the VXLAN is bound to (`dev` at creation, `link` in the JSON). */
  readonly link?: string;
  /** Destination UDP port; 8472 is the Linux default that flannel keeps (IANA's is 4789). */
  readonly port?: number;
  /** Whether the device learns remote MACs from received packets; flannel turns it off. */
  readonly learning?: boolean;
}

/** One interface of `ip -j -d link show`. */
export interface IpLink {
  readonly ifindex: number;
  readonly ifname: string;
  /** `UP`, `LOWER_UP`, `NOARP`, ... as printed. */
  readonly flags: readonly string[];
  readonly mtu?: number;
  readonly operstate?: string;
  /** The bridge this interface is a port of (`master`). */
  readonly master?: string;
  /** MAC address, lower case. */
  readonly address?: string;
  /** `linkinfo.info_kind`: `vxlan`, `bridge`, `veth`, ... (absent for physical NICs). */
  readonly kind?: string;
  readonly vxlan?: VxlanInfo;
  readonly evidence: Evidence;
}

export interface IpLinkTable {
  readonly links: readonly IpLink[];
  readonly warnings: readonly HostParseWarning[];
}

function vxlanInfo(data: Readonly<Record<string, unknown>> | undefined): VxlanInfo {
  if (data === undefined) return {};
  const id = num(data, "id");
  const local = str(data, "local");
  const link = str(data, "link");
  const port = num(data, "port");
  const learning = bool(data, "learning");
  return {
    ...(id === undefined ? {} : { id }),
    ...(local === undefined ? {} : { local }),
    ...(link === undefined ? {} : { link }),
    ...(port === undefined ? {} : { port }),
    ...(learning === undefined ? {} : { learning }),
  };
}

/**
 * Parses `ip -j -d link show` (`-d` adds `linkinfo`; without it every link still parses, only
 * `kind` and `vxlan` are missing).
 *
 * @example
 * ```ts
 * const { links } = parseIpLink(text, { file: "nodes/a/ip-link.json" });
 * links.find((l) => l.kind === "vxlan")?.vxlan?.port; // 8472
 * ```
 * @throws {SyntaxError} When the text is not a JSON array.
 */
export function parseIpLink(text: string, options: { file: string }): IpLinkTable {
  const warnings: HostParseWarning[] = [];
  const links: IpLink[] = [];
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
    const operstate = str(o, "operstate");
    const master = str(o, "master");
    const address = str(o, "address")?.toLowerCase();
    const linkinfo = obj(o, "linkinfo");
    const kind = linkinfo === undefined ? undefined : str(linkinfo, "info_kind");
    links.push({
      ifindex,
      ifname,
      flags: strings(o, "flags"),
      ...(mtu === undefined ? {} : { mtu }),
      ...(operstate === undefined ? {} : { operstate }),
      ...(master === undefined ? {} : { master }),
      ...(address === undefined ? {} : { address }),
      ...(kind === undefined ? {} : { kind }),
      ...(kind === "vxlan" ? { vxlan: vxlanInfo(obj(linkinfo!, "info_data")) } : {}),
      evidence: itemEvidence(options.file, item),
    });
  }
  return { links, warnings };
}

/** Whether the link is administratively up (`UP` flag). */
export function linkIsUp(link: IpLink): boolean {
  return link.flags.includes("UP");
}
