/**
 * The packet an nftables evaluation walks: its headers after every rewrite so far, its metadata
 * (interfaces, mark), its conntrack view, and the steps that acted on it. One state per path;
 * a fork (numgen, meta random) copies it.
 */
import { formatIpv4, parseIpv4 } from "../net/ipv4.ts";
import { CT_STATE, protocolNumber, TCP_FLAGS } from "./nft-datatypes.ts";
import type { NftFamily } from "./nft-ruleset.ts";

/** One packet as a caller describes it (IPv4 only: nft rules for IPv6 are not evaluated). */
export interface NftPacket {
  readonly protocol: "tcp" | "udp" | "sctp" | "icmp";
  readonly srcIp: string;
  readonly srcPort?: number;
  readonly dstIp: string;
  /** Absent for ICMP. */
  readonly dstPort?: number;
  /** TCP flag names (default `["syn"]`: the first packet of a connection). */
  readonly tcpFlags?: readonly string[];
  /** ICMP type name (default `echo-request`). */
  readonly icmpType?: string;
}

/** What conntrack says about the packet's connection (`new` for a connection's first packet). */
export type NftCtState = "new" | "established" | "related" | "invalid" | "untracked";

/** Evidence of one step: the text dump line when known, always the rule handle. */
export interface NftEvidence {
  /** Bundle-relative file (`nodes/NODE/nft-ruleset.txt`, or the JSON file without text). */
  readonly file: string;
  readonly line?: number;
  readonly handle?: number;
  readonly text: string;
}

/**
 * What a rule did, typed. Names follow the trace model's FilterAction / NatAction (src/model/trace.ts)
 * so a step converts one to one; `branch` is a random choice (numgen, meta random) taken at the rule.
 */
export type NftAct =
  | { readonly kind: "jump" | "goto"; readonly target: string }
  | { readonly kind: "return" | "accept" | "drop" | "continue" | "notrack" | "count" | "log" }
  /** `rejectWith`: iptables' canonical name of the reply (`icmp-admin-prohibited`, `tcp-reset`). */
  | { readonly kind: "reject"; readonly rejectWith: string }
  /** `meta mark set` (`on: "meta"`) or `ct mark set` as iptables' MARK operation and its argument. */
  | {
      readonly kind: "mark";
      readonly on: "meta" | "ct";
      readonly op: "set-mark" | "or-mark" | "and-mark" | "xor-mark" | "set-xmark";
      readonly value: string;
    }
  | { readonly kind: "dnat" | "snat" | "redirect"; readonly to: string }
  | { readonly kind: "masquerade"; readonly to?: string }
  | { readonly kind: "set-update"; readonly set: string }
  | { readonly kind: "branch"; readonly label: string; readonly probability: number }
  | { readonly kind: "policy"; readonly policy: "accept" | "drop" }
  | { readonly kind: "cannot-decide"; readonly reason: string };

/** One rule that acted (its statements ran) or one base chain policy that applied. */
export interface NftStep {
  readonly family: NftFamily;
  readonly table: string;
  readonly chain: string;
  /** Absent for a chain policy. */
  readonly handle?: number;
  readonly kind: "rule" | "policy";
  /** What happened, in words: `jump services`, `dnat to 10.180.0.1:80`, `numgen 1/2: goto endpoint-...`. */
  readonly action: string;
  /** The same, typed, in the order the rule's statements ran. */
  readonly acts: readonly NftAct[];
  readonly evidence: NftEvidence;
}

/** Marker for an interface the caller did not say (comparisons with it are undecided). */
export const UNKNOWN_IF = "\u0000unknown";

/** Mutable per-path state; copy with {@linkcode cloneState} before forking. */
export interface PacketState {
  proto: number;
  src: number;
  sport: number | undefined;
  dst: number;
  dport: number | undefined;
  tcpFlags: number;
  icmpType: number | undefined;
  mark: number;
  ctMark: number;
  /** `none` before conntrack has seen the packet (priority < -200 at prerouting/output). */
  ct: "none" | "tracked" | "untracked";
  ctState: number;
  ctStatus: number;
  readonly orig: {
    readonly src: number;
    readonly sport?: number;
    readonly dst: number;
    readonly dport?: number;
  };
  /** Input/output device at the current hook; undefined: the hook has none. */
  iif: string | undefined;
  oif: string | undefined;
  /** The connection's destination / source NAT binding is set up (by a rule or as a null binding). */
  natDst: boolean;
  natSrc: boolean;
  /** Source rewritten by masquerade whose address was not known. */
  masquerade: boolean;
  probability: number;
  steps: NftStep[];
}

/**
 * The state of a connection's first packet (`ctState` "new" unless told otherwise). Throws a
 * RangeError for an address that is not IPv4 or an unknown protocol.
 */
export function initialState(packet: NftPacket, ctState: NftCtState = "new", mark = 0): PacketState {
  const src = parseIpv4(packet.srcIp);
  const dst = parseIpv4(packet.dstIp);
  if (src === undefined || dst === undefined) {
    throw new RangeError(`Cannot evaluate packet ${packet.srcIp} -> ${packet.dstIp}: only IPv4 is modelled`);
  }
  const proto = protocolNumber(packet.protocol);
  if (proto === undefined) throw new RangeError(`Cannot evaluate protocol "${packet.protocol}"`);
  const flags = (packet.tcpFlags ?? ["syn"]).reduce((a, f) => a | (TCP_FLAGS[f] ?? 0), 0);
  const ports = proto === 1 ? {} : { sport: packet.srcPort, dport: packet.dstPort };
  return {
    proto,
    src,
    sport: ports.sport,
    dst,
    dport: ports.dport,
    tcpFlags: proto === 6 ? flags : 0,
    icmpType:
      proto === 1
        ? ({ "echo-request": 8, "echo-reply": 0 }[packet.icmpType ?? "echo-request"] ?? 8)
        : undefined,
    mark,
    ctMark: 0,
    ct: ctState === "untracked" ? "untracked" : "tracked",
    ctState: ctState === "untracked" ? CT_STATE.untracked : CT_STATE[ctState],
    // Unknown for a connection netdoctor did not see start (its NAT and reply bits).
    ctStatus: ctState === "new" ? 0 : -1,
    orig: {
      src,
      dst,
      ...(ports.sport === undefined ? {} : { sport: ports.sport }),
      ...(ports.dport === undefined ? {} : { dport: ports.dport }),
    },
    iif: undefined,
    oif: undefined,
    natDst: ctState !== "new",
    natSrc: ctState !== "new",
    masquerade: false,
    probability: 1,
    steps: [],
  };
}

/** A copy that can change independently (steps are copied too). */
export function cloneState(st: PacketState): PacketState {
  return { ...st, steps: [...st.steps] };
}

/** `ip:port` (or `ip` without a port) of the current destination. */
export function destinationText(st: PacketState): string {
  return st.dport === undefined ? formatIpv4(st.dst) : `${formatIpv4(st.dst)}:${st.dport}`;
}

/** `ip:port` (or `ip`) of the current source. */
export function sourceText(st: PacketState): string {
  return st.sport === undefined ? formatIpv4(st.src) : `${formatIpv4(st.src)}:${st.sport}`;
}
