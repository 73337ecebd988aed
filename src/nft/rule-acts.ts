/**
 * How a step tells what a rule did: in words (`meta mark set meta mark | 0x4000`) and typed
 * ({@linkcode NftAct}, named after the trace model's FilterAction / NatAction).
 */
import type { NftAct } from "./nft-packet.ts";
import type { NftExpr, NftStmt, NftVerdict } from "./nft-ruleset.ts";

export function verdictText(v: NftVerdict): string {
  return v.kind === "jump" || v.kind === "goto" ? `${v.kind} ${v.target}` : v.kind;
}

export function verdictAct(v: NftVerdict): NftAct {
  return v.kind === "jump" || v.kind === "goto" ? { kind: v.kind, target: v.target } : { kind: v.kind };
}

const MARK_OPS = { "|": "or-mark", "&": "and-mark", "^": "xor-mark" } as const;

/** A mark setting as iptables' MARK operation; other settings are `continue`. */
export function mangleAct(s: NftStmt & { kind: "mangle" }): NftAct {
  const on =
    s.key.kind === "meta" && s.key.key === "mark"
      ? "meta"
      : s.key.kind === "ct" && s.key.key === "mark"
        ? "ct"
        : undefined;
  if (on === undefined) return { kind: "continue" };
  const v = s.value;
  if (v.kind === "binop" && v.op in MARK_OPS && v.right.kind === "immediate") {
    return { kind: "mark", on, op: MARK_OPS[v.op as keyof typeof MARK_OPS], value: describeValue(v.right) };
  }
  return { kind: "mark", on, op: "set-mark", value: describeValue(v) };
}

export function describeValue(v: NftExpr): string {
  if (v.kind === "immediate")
    return typeof v.value === "number" ? `0x${v.value.toString(16)}` : String(v.value);
  if (v.kind === "binop" && v.right.kind === "immediate")
    return `${describeKey(v.left)} ${v.op} ${describeValue(v.right)}`;
  return describeKey(v);
}

export function describeKey(k: NftExpr): string {
  if (k.kind === "meta") return `meta ${k.key}`;
  if (k.kind === "ct") return `ct ${k.key}`;
  if (k.kind === "payload") return `${k.protocol} ${k.field}`;
  return k.kind;
}
