/**
 * Evaluates the left-hand side of matches, map keys and statement values on one packet state.
 * A value can be missing on this packet ("absent": `tcp dport` of a UDP packet, `ct mark` before
 * conntrack — the kernel then breaks the rule, so it does not match), random (numgen: several
 * branches with probabilities) or unknown (no model, or something the caller did not say).
 */
import { formatIpv4 } from "../net/ipv4.ts";
import { mapLookup } from "./eval-lookup.ts";
import { CT_STATE, literal, type NftDatatype, type Scalar } from "./nft-datatypes.ts";
import { type PacketState, UNKNOWN_IF } from "./nft-packet.ts";
import type { NftExpr, NftTable } from "./nft-ruleset.ts";

/** What an expression needs from outside the packet. */
export interface ExprContext {
  /** The table of the rule: named sets are looked up there. */
  readonly table: NftTable;
  /** The node's own addresses (unsigned 32-bit). */
  readonly localIps: ReadonlySet<number>;
  /** The interface the node routes an address out of (fib daddr oif); undefined: not known. */
  readonly routeInterface?: (ip: string) => string | undefined;
}

export interface ValueBranch {
  readonly p: number;
  /** One value per concatenated component. */
  readonly values: readonly Scalar[];
  /** Why this branch exists, for steps: `numgen 2/3`. */
  readonly label?: string;
  /** On this branch the value is missing (a map lookup missed): the rule does not match there. */
  readonly absent?: true;
}

export type ValueResult =
  | { readonly kind: "ok"; readonly branches: readonly ValueBranch[] }
  | { readonly kind: "absent" }
  | { readonly kind: "unknown"; readonly reason: string };

/** fib's address type of an address that is not local, multicast or broadcast: unicast, unreachable... */
export const NONLOCAL = "\u0000nonlocal";

const TRANSPORT: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132, dccp: 33, udplite: 136 };
const unknown = (reason: string): ValueResult => ({ kind: "unknown", reason });
const one = (v: Scalar): ValueResult => ({ kind: "ok", branches: [{ p: 1, values: [v] }] });
const ABSENT: ValueResult = { kind: "absent" };

function payload(e: NftExpr & { kind: "payload" }, st: PacketState): ValueResult {
  if (e.protocol === "ip") {
    if (e.field === "saddr") return one(st.src);
    if (e.field === "daddr") return one(st.dst);
    if (e.field === "protocol") return one(st.proto);
    return unknown(`ip ${e.field} is not modelled`);
  }
  if (e.protocol === "ip6" || e.protocol === "icmpv6") return ABSENT;
  const want = TRANSPORT[e.protocol];
  if (e.protocol === "th") {
    if (!Object.values(TRANSPORT).includes(st.proto))
      return unknown(`th ${e.field} of an ICMP packet is not modelled`);
  } else if (e.protocol === "icmp") {
    if (st.proto !== 1) return ABSENT;
    return e.field === "type" && st.icmpType !== undefined
      ? one(st.icmpType)
      : unknown(`icmp ${e.field} is not modelled`);
  } else if (want === undefined) {
    return unknown(`payload ${e.protocol} ${e.field} is not modelled`);
  } else if (st.proto !== want) {
    return ABSENT;
  }
  if (e.field === "sport") return st.sport === undefined ? unknown("source port not given") : one(st.sport);
  if (e.field === "dport")
    return st.dport === undefined ? unknown("destination port not given") : one(st.dport);
  if (e.protocol === "tcp" && e.field === "flags") return one(st.tcpFlags);
  return unknown(`${e.protocol} ${e.field} is not modelled`);
}

function iface(name: string | undefined, byName: boolean): ValueResult {
  if (name === UNKNOWN_IF) return unknown("the interface is not known");
  // No device at this hook: `iifname` reads as "", `iif` breaks the rule (nft_meta_get_eval).
  if (name === undefined) return byName ? one("") : ABSENT;
  return one(name);
}

function meta(e: NftExpr & { kind: "meta" }, st: PacketState): ValueResult {
  switch (e.key) {
    case "l4proto":
      return one(st.proto);
    case "nfproto":
      return one(2);
    case "protocol":
      return one(0x0800);
    case "mark":
      return one(st.mark);
    case "iifname":
    case "iif":
      return iface(st.iif, e.key === "iifname");
    case "oifname":
    case "oif":
      return iface(st.oif, e.key === "oifname");
    default:
      return unknown(`meta ${e.key} is not modelled`);
  }
}

function ct(e: NftExpr & { kind: "ct" }, st: PacketState): ValueResult {
  const key = e.key.replace(/^ip /, "");
  if (key === "state") {
    if (st.ct === "none") return one(CT_STATE.invalid);
    return one(st.ct === "untracked" ? CT_STATE.untracked : st.ctState);
  }
  // Without a conntrack entry every other ct key breaks the rule.
  if (st.ct !== "tracked") return ABSENT;
  const reply = e.dir === "reply";
  switch (key) {
    case "status":
      return st.ctStatus < 0
        ? unknown("ct status of a connection already under way is not known")
        : one(st.ctStatus);
    case "mark":
      return one(st.ctMark);
    case "direction":
      return one(0);
    case "l3proto":
      return one(2);
    case "protocol":
      return one(st.proto);
    case "saddr":
      return one(reply ? st.dst : st.orig.src);
    case "daddr":
      return one(reply ? st.src : st.orig.dst);
    case "proto-src": {
      const v = reply ? st.dport : st.orig.sport;
      return v === undefined ? unknown("port not given") : one(v);
    }
    case "proto-dst": {
      const v = reply ? st.sport : st.orig.dport;
      return v === undefined ? unknown("port not given") : one(v);
    }
    default:
      return unknown(`ct ${e.key} is not modelled`);
  }
}

function fibType(ip: number, ctx: ExprContext): string {
  if (ctx.localIps.has(ip) || ip >>> 24 === 127) return "local";
  if (ip === 0xffffffff) return "broadcast";
  if (ip >>> 28 === 14) return "multicast";
  return NONLOCAL;
}

function fib(e: NftExpr & { kind: "fib" }, st: PacketState, ctx: ExprContext): ValueResult {
  const addr = e.flags.includes("saddr") ? st.src : e.flags.includes("daddr") ? st.dst : undefined;
  if (addr === undefined) return unknown("fib without saddr/daddr is not modelled");
  if (e.result === "type") return one(fibType(addr, ctx));
  if ((e.result === "oif" || e.result === "oifname") && e.flags.includes("daddr")) {
    if (fibType(addr, ctx) !== NONLOCAL)
      return unknown(`fib daddr ${e.result} of a local address is not modelled`);
    const dev = ctx.routeInterface?.(formatIpv4(addr));
    return dev === undefined ? unknown(`no route known for ${formatIpv4(addr)}`) : one(dev);
  }
  return unknown(`fib ${e.flags.join(" . ")} ${e.result} is not modelled`);
}

function binop(e: NftExpr & { kind: "binop" }, st: PacketState, ctx: ExprContext): ValueResult {
  const left = evalExpr(e.left, st, ctx);
  if (left.kind !== "ok") return left;
  if (e.right.kind !== "immediate") return unknown("binary operation with a non-constant operand");
  const r = literal("integer", e.right.value);
  if (typeof r !== "number") return unknown(`operand ${String(e.right.value)} is not a number`);
  const branches: ValueBranch[] = [];
  for (const b of left.branches) {
    if (b.absent) {
      branches.push(b);
      continue;
    }
    const l = b.values[0];
    if (typeof l !== "number") return unknown("binary operation on a non-number");
    const v =
      e.op === "&" ? l & r : e.op === "|" ? l | r : e.op === "^" ? l ^ r : e.op === "<<" ? l << r : l >>> r;
    branches.push({ ...b, values: [v >>> 0] });
  }
  return { kind: "ok", branches };
}

function concat(e: NftExpr & { kind: "concat" }, st: PacketState, ctx: ExprContext): ValueResult {
  let acc: ValueBranch[] = [{ p: 1, values: [] }];
  for (const item of e.items) {
    const r = evalExpr(item, st, ctx);
    if (r.kind !== "ok") return r;
    const next: ValueBranch[] = [];
    for (const a of acc) {
      for (const b of r.branches) {
        const label = [a.label, b.label].filter((x) => x !== undefined).join(", ");
        next.push({
          p: a.p * b.p,
          values: [...a.values, ...b.values],
          ...(label === "" ? {} : { label }),
          ...(a.absent || b.absent ? { absent: true as const } : {}),
        });
      }
    }
    acc = next;
  }
  return { kind: "ok", branches: acc };
}

/**
 * Evaluates `e` on `st`. `want` gives the data types an anonymous map's values are read as (the
 * statement that uses the value knows: `dnat to ... map { ... }` wants addresses).
 */
export function evalExpr(
  e: NftExpr,
  st: PacketState,
  ctx: ExprContext,
  want?: readonly NftDatatype[],
): ValueResult {
  switch (e.kind) {
    case "payload":
      return payload(e, st);
    case "meta":
      return meta(e, st);
    case "ct":
      return ct(e, st);
    case "fib":
      return fib(e, st, ctx);
    case "numgen": {
      const branches: ValueBranch[] = [];
      for (let i = 0; i < e.mod; i++) {
        branches.push({ p: 1 / e.mod, values: [i + e.offset], label: `numgen ${e.mode} ${i + 1}/${e.mod}` });
      }
      return { kind: "ok", branches };
    }
    case "binop":
      return binop(e, st, ctx);
    case "concat":
      return concat(e, st, ctx);
    case "map":
      return mapLookup(e, st, ctx, want);
    case "immediate":
      return typeof e.value === "boolean" ? one(e.value ? 1 : 0) : one(e.value);
    case "setref":
    case "list":
    case "set":
    case "prefix":
    case "range":
    case "verdict":
      return unknown(`${e.kind} cannot be a value`);
    case "unsupported":
      return unknown(`expression ${e.name} is not modelled`);
    default: {
      const never: never = e;
      throw new TypeError(`Unknown expression ${JSON.stringify(never)}`);
    }
  }
}
