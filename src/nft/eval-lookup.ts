/**
 * Set and map lookups inside expressions: which set a reference or an anonymous set means, and a
 * map expression's value (`dnat to ip daddr map @m`, `numgen inc mod 2 map { 0 : a, 1 : b }`). A miss
 * is an absent value: the kernel breaks the rule there.
 */
import type { ExprContext, ValueBranch, ValueResult } from "./eval-expr.ts";
import { evalExpr } from "./eval-expr.ts";
import { typeOf } from "./expr-type.ts";
import { literal, type NftDatatype, type Scalar, setDatatype } from "./nft-datatypes.ts";
import type { PacketState } from "./nft-packet.ts";
import type { NftExpr, NftSet } from "./nft-ruleset.ts";
import { anonymousSetIndex, lookup, namedSetIndex } from "./set-lookup.ts";

/** The set or map `data` names or spells out, with its key and data types. */
export function resolveLookup(
  data: NftExpr,
  keyTypes: readonly NftDatatype[] | undefined,
  ctx: ExprContext,
): { index: ReturnType<typeof namedSetIndex>; set?: NftSet; dataTypes?: readonly NftDatatype[] } | string {
  if (data.kind === "setref") {
    const set = ctx.table.sets.get(data.name);
    if (set === undefined) return `set @${data.name} is not in table ${ctx.table.family} ${ctx.table.name}`;
    const types = set.keyType.map(setDatatype);
    if (types.some((t) => t === undefined))
      return `set @${data.name} has key type ${set.keyType.join(" . ")}, not modelled`;
    const dataTypes = set.dataType?.map(setDatatype);
    return {
      index: namedSetIndex(set, types as NftDatatype[]),
      set,
      ...(dataTypes === undefined || dataTypes.some((t) => t === undefined)
        ? {}
        : { dataTypes: dataTypes as NftDatatype[] }),
    };
  }
  if (data.kind === "set") {
    if (keyTypes === undefined) return "anonymous set with a key of unknown type";
    return { index: anonymousSetIndex(data, keyTypes) };
  }
  return `lookup in ${data.kind} is not modelled`;
}

export function mapLookup(
  e: NftExpr & { kind: "map" },
  st: PacketState,
  ctx: ExprContext,
  want: readonly NftDatatype[] | undefined,
): ValueResult {
  const key = evalExpr(e.key, st, ctx);
  if (key.kind !== "ok") return key;
  const target = resolveLookup(e.data, typeOf(e.key, ctx.table), ctx);
  if (typeof target === "string") return unknownValue(target);
  const branches: ValueBranch[] = [];
  for (const b of key.branches) {
    const el = b.absent ? undefined : lookup(target.index, b.values);
    // A lookup miss breaks the rule.
    if (el?.data === undefined) {
      branches.push({ ...b, values: [], absent: true });
      continue;
    }
    const parts = el.data.kind === "concat" ? el.data.items : [el.data];
    const dts = target.dataTypes ?? want;
    if (dts === undefined) return unknownValue("map data of unknown type");
    const values: Scalar[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const v = part.kind === "immediate" ? literal(dts[i] ?? "integer", part.value) : undefined;
      if (v === undefined) return unknownValue("map data is not a constant of a known type");
      values.push(v);
    }
    branches.push({ ...b, values });
  }
  return branches.every((b) => b.absent) ? { kind: "absent" } : { kind: "ok", branches };
}

function unknownValue(reason: string): ValueResult {
  return { kind: "unknown", reason };
}
