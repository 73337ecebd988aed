/**
 * nftables datatypes netdoctor evaluates, and how JSON literals of each type become comparable
 * values: numbers for addresses, ports, protocols, marks and flag bits; strings for interface names
 * and fib address types. Symbolic names follow nftables' own tables (src/datatype.c, src/ct.c,
 * src/proto.c) and the kernel's bit values (include/uapi/linux/netfilter/nf_conntrack_common.h).
 */
import { parseIpv4 } from "../net/ipv4.ts";

export type NftDatatype =
  | "ipv4_addr"
  | "inet_proto"
  | "inet_service"
  | "ifname"
  | "mark"
  | "integer"
  | "ct_state"
  | "ct_status"
  | "ct_dir"
  | "tcp_flag"
  | "icmp_type"
  | "fib_addrtype"
  | "nf_proto"
  | "ether_type"
  | "pkt_type"
  | "verdict";

/** A comparable value: numbers (addresses as unsigned 32-bit) or strings (names). */
export type Scalar = number | string;

const PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  dccp: 33,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};

/** The few service names libnftables may print instead of numbers (only with `-S`, never by default). */
const SERVICES: Readonly<Record<string, number>> = {
  ssh: 22,
  domain: 53,
  http: 80,
  https: 443,
  smtp: 25,
  ntp: 123,
  ftp: 21,
};

/** Conntrack state bits as nft_ct_get_eval stores them: 1 << (ctinfo + 1), invalid 1, untracked 64. */
export const CT_STATE = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 } as const;

export const CT_STATUS: Readonly<Record<string, number>> = {
  expected: 1,
  "seen-reply": 2,
  assured: 4,
  confirmed: 8,
  snat: 16,
  dnat: 32,
  dying: 512,
};

/** IPS_SRC_NAT_DONE / IPS_DST_NAT_DONE: set by nf_nat_setup_info for every binding, null ones too. */
export const CT_SRC_NAT_DONE = 0x80;
export const CT_DST_NAT_DONE = 0x100;

export const TCP_FLAGS: Readonly<Record<string, number>> = {
  fin: 1,
  syn: 2,
  rst: 4,
  psh: 8,
  ack: 16,
  urg: 32,
  ecn: 64,
  cwr: 128,
};

const ICMP_TYPES: Readonly<Record<string, number>> = {
  "echo-reply": 0,
  "destination-unreachable": 3,
  "source-quench": 4,
  redirect: 5,
  "echo-request": 8,
  "router-advertisement": 9,
  "router-solicitation": 10,
  "time-exceeded": 11,
  "parameter-problem": 12,
  "timestamp-request": 13,
  "timestamp-reply": 14,
  "info-request": 15,
  "info-reply": 16,
  "address-mask-request": 17,
  "address-mask-reply": 18,
};

const NF_PROTO: Readonly<Record<string, number>> = {
  ipv4: 2,
  ipv6: 10,
  inet: 1,
  arp: 3,
  bridge: 7,
  netdev: 5,
};
const ETHER_TYPE: Readonly<Record<string, number>> = { ip: 0x0800, arp: 0x0806, ip6: 0x86dd, vlan: 0x8100 };
const PKT_TYPE: Readonly<Record<string, number>> = {
  host: 0,
  unicast: 0,
  broadcast: 1,
  multicast: 2,
  other: 3,
};
const CT_DIR: Readonly<Record<string, number>> = { original: 0, reply: 1 };

/** The protocol number of a name (`tcp` → 6), or undefined. */
export function protocolNumber(name: string): number | undefined {
  return PROTOCOLS[name];
}

/** The name of a protocol number for messages (6 → `tcp`). */
export function protocolName(n: number): string {
  return Object.keys(PROTOCOLS).find((k) => PROTOCOLS[k] === n) ?? String(n);
}

function named(table: Readonly<Record<string, number>>, v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(v)) return Number(v);
  return table[v];
}

/** Flag-like types: a list of names means the OR of their bits. */
export function isFlagType(dt: NftDatatype): boolean {
  return dt === "ct_state" || dt === "ct_status" || dt === "tcp_flag";
}

/**
 * A JSON literal (string, number, boolean) as a value of `dt`, or undefined when it is not one
 * (an IPv6 address for ipv4_addr, an unknown name).
 */
export function literal(dt: NftDatatype, v: string | number | boolean): Scalar | undefined {
  if (typeof v === "boolean") return v ? 1 : 0;
  switch (dt) {
    case "ipv4_addr":
      return typeof v === "string" ? parseIpv4(v) : undefined;
    case "inet_proto":
      return named(PROTOCOLS, v);
    case "inet_service":
      return named(SERVICES, v);
    case "ifname":
    case "fib_addrtype":
      return String(v);
    case "mark":
    case "integer":
      return named({}, v);
    case "ct_state":
      return named(CT_STATE, v);
    case "ct_status":
      return named(CT_STATUS, v);
    case "ct_dir":
      return named(CT_DIR, v);
    case "tcp_flag":
      return named(TCP_FLAGS, v);
    case "icmp_type":
      return named(ICMP_TYPES, v);
    case "nf_proto":
      return named(NF_PROTO, v);
    case "ether_type":
      return named(ETHER_TYPE, v);
    case "pkt_type":
      return named(PKT_TYPE, v);
    case "verdict":
      return undefined;
    default: {
      const never: never = dt;
      throw new TypeError(`Unknown datatype ${String(never)}`);
    }
  }
}

/** A named set's key type (`ipv4_addr`, `inet_service`, `ifname`...) as an evaluator datatype. */
export function setDatatype(name: string): NftDatatype | undefined {
  switch (name) {
    case "ipv4_addr":
    case "inet_proto":
    case "inet_service":
    case "ifname":
    case "mark":
    case "ct_state":
    case "ct_status":
    case "verdict":
    case "icmp_type":
    case "ether_type":
    case "nf_proto":
    case "fib_addrtype":
      return name;
    case "tcp_flag":
      return "tcp_flag";
    case "integer":
    case "ct_label":
      return "integer";
    case "iface_index":
      return "ifname";
    default:
      return undefined;
  }
}
