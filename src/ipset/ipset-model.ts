/**
 * The parsed form of `ipset save` (or `ipset list`) output: every set with its type, family and
 * options, and its members with the line that holds each, so a verdict that depends on a set can
 * point at the `add` line that decided it. Set types and their dimensions follow ipset(8).
 */
import type { Cidr } from "../net/ipv4.ts";

/** The set types ipset(8) documents; anything else is kept as `unknown`. */
export type IpsetType =
  | "hash:ip"
  | "hash:net"
  | "hash:ip,port"
  | "hash:net,port"
  | "hash:ip,port,ip"
  | "hash:ip,port,net"
  | "hash:net,port,net"
  | "hash:net,net"
  | "hash:net,iface"
  | "hash:ip,mark"
  | "hash:ip,mac"
  | "hash:mac"
  | "bitmap:ip"
  | "bitmap:ip,mac"
  | "bitmap:port"
  | "list:set";

/** What one comma-separated part of a member holds. */
export type DimensionKind = "ip" | "net" | "port" | "iface" | "mark" | "mac" | "set";

/** The dimensions of each set type, in the order a member writes them (and `--match-set` flags apply). */
export const IPSET_DIMENSIONS: Readonly<Record<IpsetType, readonly DimensionKind[]>> = {
  "hash:ip": ["ip"],
  "hash:net": ["net"],
  "hash:ip,port": ["ip", "port"],
  "hash:net,port": ["net", "port"],
  "hash:ip,port,ip": ["ip", "port", "ip"],
  "hash:ip,port,net": ["ip", "port", "net"],
  "hash:net,port,net": ["net", "port", "net"],
  "hash:net,net": ["net", "net"],
  "hash:net,iface": ["net", "iface"],
  "hash:ip,mark": ["ip", "mark"],
  "hash:ip,mac": ["ip", "mac"],
  "hash:mac": ["mac"],
  "bitmap:ip": ["ip"],
  "bitmap:ip,mac": ["ip", "mac"],
  "bitmap:port": ["port"],
  "list:set": ["set"],
};

/** An address dimension: IPv4 as a CIDR (a host is /32), IPv6 kept as text (never matched). */
export interface AddressPart {
  readonly kind: "ip" | "net";
  readonly text: string;
  /** Undefined for IPv6. */
  readonly cidr?: Cidr;
}

/** A port dimension: protocol name (tcp when the member gives none) and port, or ICMP type/code. */
export interface PortPart {
  readonly kind: "port";
  readonly text: string;
  /** `tcp`, `udp`, `sctp`, `udplite`, `icmp`, `icmpv6`, another protocol name, or `any` (bitmap:port). */
  readonly proto: string;
  /** The port; for ICMP `type * 256 + code`. */
  readonly port: number;
}

export interface OtherPart {
  readonly kind: "iface" | "mark" | "mac" | "set";
  readonly text: string;
}

export type MemberPart = AddressPart | PortPart | OtherPart;

/** One `add` line (or one member row of `ipset list`). */
export interface IpsetMember {
  /** 1-indexed line in the file. */
  readonly line: number;
  /** The line as it appeared. */
  readonly text: string;
  /** The element before any option, e.g. `10.42.0.5,tcp:80`. */
  readonly element: string;
  readonly parts: readonly MemberPart[];
  readonly nomatch: boolean;
  /** Seconds left when the set was saved; 0 = permanent; absent when the set has no timeout support. */
  readonly timeout?: number;
  readonly comment?: string;
}

/** One `create` line with its members. */
export interface IpsetSet {
  readonly name: string;
  /** The type as written (kept even when unknown). */
  readonly typeName: string;
  /** Undefined when the type is not one ipset(8) documents. */
  readonly type?: IpsetType;
  /** `inet` or `inet6` for hash types; undefined for bitmap and list types (they have none). */
  readonly family?: "inet" | "inet6";
  /** Default timeout of the set (`timeout N` on create), when it has timeout support. */
  readonly timeout?: number;
  /** `netmask N` of hash:ip / bitmap:ip sets: members are networks of this size. */
  readonly netmask?: number;
  /** Every create option as written, name → value ("" for flags). */
  readonly options: Readonly<Record<string, string>>;
  /** 1-indexed line of `create` (or of `Name:` for `ipset list`). */
  readonly line: number;
  readonly text: string;
  readonly members: IpsetMember[];
}

/** Something the parser kept but did not fully understand. */
export interface IpsetWarning {
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

/** The parsed file. */
export interface IpsetSave {
  /** The bundle-relative file the text came from, for evidence. */
  readonly file: string;
  /** `save`: `ipset save` lines; `list`: the `Name:`/`Members:` blocks of `ipset list`. */
  readonly format: "save" | "list";
  readonly sets: ReadonlyMap<string, IpsetSet>;
  readonly warnings: readonly IpsetWarning[];
  readonly lineCount: number;
}
