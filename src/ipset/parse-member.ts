/**
 * Parses one ipset member element (`10.42.0.5,tcp:80,10.0.0.0/8`) into its dimensions, by the
 * set type's dimension list. Syntax from ipset(8): a port is `[proto:]port` (tcp when omitted), an
 * ICMP "port" is `icmp:TYPE/CODE` or a type name, an interface may carry a `physdev:` prefix.
 */
import { parseCidr } from "../net/ipv4.ts";
import type { DimensionKind, MemberPart } from "./ipset-model.ts";

/** ICMP type names ipset prints (`ipset save` writes `icmp:echo-request`), as type*256+code. */
const ICMP_NAMES: Readonly<Record<string, number>> = {
  "echo-reply": 0,
  pong: 0,
  "network-unreachable": 3 * 256,
  "host-unreachable": 3 * 256 + 1,
  "protocol-unreachable": 3 * 256 + 2,
  "port-unreachable": 3 * 256 + 3,
  "echo-request": 8 * 256,
  ping: 8 * 256,
  "time-exceeded": 11 * 256,
};

function parseAddress(kind: "ip" | "net", text: string): MemberPart | string {
  if (text.includes(":")) return { kind, text };
  const cidr = parseCidr(text);
  if (cidr === undefined || cidr.prefix < 0) return `"${text}" is not an IPv4 address or CIDR`;
  return { kind, text, cidr };
}

function parsePort(text: string): MemberPart | string {
  const colon = text.indexOf(":");
  const proto = colon < 0 ? "tcp" : text.slice(0, colon).toLowerCase();
  const value = colon < 0 ? text : text.slice(colon + 1);
  if (proto === "icmp" || proto === "icmpv6") {
    const named = ICMP_NAMES[value];
    if (named !== undefined) return { kind: "port", text, proto, port: named };
    const m = /^(\d+)\/(\d+)$/.exec(value);
    if (m === null) return `ICMP type "${value}" is not known`;
    return { kind: "port", text, proto, port: Number(m[1]) * 256 + Number(m[2]) };
  }
  if (!/^\d+$/.test(value) || Number(value) > 65535) return `port "${value}" is not a number 0-65535`;
  return { kind: "port", text, proto, port: Number(value) };
}

/**
 * The parts of `element` for a set whose dimensions are `dims`; a string says why it cannot be read.
 * bitmap:port members carry no protocol (`any`): the set stores port numbers only.
 *
 * @example
 * ```ts
 * parseMember("10.42.0.5,udp:53", ["ip", "port"]);
 * // [{ kind: "ip", text: "10.42.0.5", cidr: {...} }, { kind: "port", text: "udp:53", proto: "udp", port: 53 }]
 * ```
 */
export function parseMember(
  element: string,
  dims: readonly DimensionKind[],
  options: { readonly bitmapPort?: boolean } = {},
): MemberPart[] | string {
  const pieces = element.split(",");
  if (pieces.length !== dims.length) {
    return `"${element}" has ${pieces.length} part(s), the set type needs ${dims.length}`;
  }
  const out: MemberPart[] = [];
  for (let i = 0; i < dims.length; i++) {
    const text = pieces[i]!;
    const kind = dims[i]!;
    let part: MemberPart | string;
    switch (kind) {
      case "ip":
      case "net":
        part = parseAddress(kind, text);
        break;
      case "port":
        part = parsePort(text);
        if (options.bitmapPort === true && typeof part !== "string" && part.kind === "port") {
          part = { ...part, proto: "any" };
        }
        break;
      case "iface":
      case "mark":
      case "mac":
      case "set":
        part = text === "" ? `empty ${kind}` : { kind, text };
        break;
      default: {
        const never: never = kind;
        throw new TypeError(`Unknown dimension ${String(never)}`);
      }
    }
    if (typeof part === "string") return part;
    out.push(part);
  }
  return out;
}
