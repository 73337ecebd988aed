/**
 * Statements that set something: `meta mark set`, `ct mark set` (only with a conntrack entry), and
 * stateless rewrites of addresses and ports. Settings that cannot change a verdict (nftrace,
 * priority, secmark, DSCP, TTL) are accepted and ignored; anything else is "not modelled".
 */
import { evalExpr } from "./eval-expr.ts";
import type { NatContext } from "./eval-nat.ts";
import { literal } from "./nft-datatypes.ts";
import type { PacketState } from "./nft-packet.ts";
import type { NftStmt } from "./nft-ruleset.ts";

const IGNORED_MANGLE = new Set(["nftrace", "priority", "secmark"]);

/** Applies a `mangle` statement to `st`; returns why it cannot, or undefined. */
export function mangle(
  s: NftStmt & { kind: "mangle" },
  st: PacketState,
  ctx: NatContext,
): string | undefined {
  const k = s.key;
  if (k.kind === "meta" && IGNORED_MANGLE.has(k.key)) return undefined;
  if (k.kind === "ct" && k.key !== "mark") return undefined;
  const target =
    k.kind === "meta" && k.key === "mark"
      ? "mark"
      : k.kind === "ct"
        ? "ctmark"
        : k.kind === "payload"
          ? `${k.protocol} ${k.field}`
          : undefined;
  if (target === undefined) return `setting ${k.kind} is not modelled`;
  const v =
    s.value.kind === "immediate"
      ? literal(target === "ip saddr" || target === "ip daddr" ? "ipv4_addr" : "integer", s.value.value)
      : undefined;
  const value =
    v !== undefined ? { kind: "ok" as const, branches: [{ p: 1, values: [v] }] } : evalExpr(s.value, st, ctx);
  if (
    value.kind !== "ok" ||
    value.branches.length !== 1 ||
    typeof value.branches[0]!.values[0] !== "number"
  ) {
    return `the value set by ${target} cannot be computed`;
  }
  const n = value.branches[0]!.values[0] as number;
  if (target === "mark") st.mark = n >>> 0;
  else if (target === "ctmark") {
    if (st.ct === "tracked") st.ctMark = n >>> 0;
  } else if (target === "ip saddr") st.src = n;
  else if (target === "ip daddr") st.dst = n;
  else if (/^(tcp|udp|th) dport$/.test(target)) st.dport = n;
  else if (/^(tcp|udp|th) sport$/.test(target)) st.sport = n;
  else if (!/^(ip (dscp|ttl|tos|ecn)|tcp option)/.test(target)) return `setting ${target} is not modelled`;
  return undefined;
}
