/**
 * One `match` statement on one packet state: equality, negation, set membership (named or
 * anonymous, with prefixes, ranges and concatenations), flag tests (`in`), numeric comparisons,
 * and the two random left-hand sides: `numgen` (one branch per value) and `meta random & MASK < N`
 * (what iptables-nft writes for `-m statistic`; a fork with the exact probability).
 */
import { type ExprContext, evalExpr, NONLOCAL } from "./eval-expr.ts";
import { resolveLookup } from "./eval-lookup.ts";
import { typeOf } from "./expr-type.ts";
import { isFlagType, literal, type NftDatatype, type Scalar } from "./nft-datatypes.ts";
import type { PacketState } from "./nft-packet.ts";
import type { NftExpr, NftMatchOp, NftStmt } from "./nft-ruleset.ts";
import { component, hasStringOutside, lookup } from "./set-lookup.ts";

export interface MatchOutcome {
  readonly p: number;
  readonly matched: boolean;
  readonly label?: string;
}

export type MatchResult =
  | { readonly kind: "ok"; readonly outcomes: readonly MatchOutcome[] }
  | { readonly kind: "unknown"; readonly reason: string };

type Match = NftStmt & { kind: "match" };
type Cmp = boolean | string;

/** fib types a non-local address can have; a set naming none of them cannot contain it. */
const FIB_LOCALISH = new Set(["local", "broadcast", "multicast", "anycast"]);

function bitsOf(items: readonly NftExpr[], dt: NftDatatype): number | undefined {
  let bits = 0;
  for (const i of items) {
    if (i.kind !== "immediate") return undefined;
    const v = literal(dt, i.value);
    if (typeof v !== "number") return undefined;
    bits |= v;
  }
  return bits;
}

function compareScalar(op: NftMatchOp, v: Scalar, r: Scalar): Cmp {
  if (op === "==") return v === r;
  if (op === "!=") return v !== r;
  if (typeof v !== "number" || typeof r !== "number") return `operator ${op} on names`;
  switch (op) {
    case "in":
      return (v & r) !== 0;
    case "<":
      return v < r;
    case ">":
      return v > r;
    case "<=":
      return v <= r;
    case ">=":
      return v >= r;
    default: {
      const never: never = op;
      throw new TypeError(`Unknown operator ${String(never)}`);
    }
  }
}

function membership(
  op: NftMatchOp,
  values: readonly Scalar[],
  right: NftExpr,
  types: readonly NftDatatype[],
  ctx: ExprContext,
): Cmp {
  const target = resolveLookup(right, types, ctx);
  if (typeof target === "string") return target;
  const fibAt = types.indexOf("fib_addrtype");
  if (fibAt >= 0 && values[fibAt] === NONLOCAL && hasStringOutside(target.index, fibAt, FIB_LOCALISH)) {
    return "fib address type of a non-local address (unicast or unreachable) is not modelled";
  }
  if (target.index.unreadable > 0 && lookup(target.index, values) === undefined) {
    return `${target.index.unreadable} element(s) of the set could not be read`;
  }
  const member = lookup(target.index, values) !== undefined;
  return op === "!=" ? !member : member;
}

function compareRight(
  op: NftMatchOp,
  values: readonly Scalar[],
  right: NftExpr,
  types: readonly NftDatatype[],
  ctx: ExprContext,
): Cmp {
  const v = values[0]!;
  const dt = types[0]!;
  switch (right.kind) {
    case "setref":
    case "set":
      return membership(op, values, right, types, ctx);
    case "list": {
      if (!isFlagType(dt))
        return membership(
          op,
          values,
          { kind: "set", elements: right.items.map((key) => ({ key })) },
          types,
          ctx,
        );
      const bits = bitsOf(right.items, dt);
      if (bits === undefined || typeof v !== "number") return "flag list of unknown names";
      return op === "in" ? (v & bits) !== 0 : compareScalar(op, v, bits);
    }
    case "prefix":
    case "range": {
      const c = component(right, dt);
      if (c === undefined || "str" in c || typeof v !== "number") return `${right.kind} of a non-number`;
      const inside = v >= c.lo && v <= c.hi;
      return op === "!="
        ? !inside
        : op === "==" || op === "in"
          ? inside
          : `operator ${op} with a ${right.kind}`;
    }
    case "concat":
      return membership(op, values, { kind: "set", elements: [{ key: right }] }, types, ctx);
    case "immediate": {
      if (dt === "ifname" && typeof right.value === "string" && right.value.endsWith("*")) {
        const hit = typeof v === "string" && v.startsWith(right.value.slice(0, -1));
        return op === "!=" ? !hit : hit;
      }
      const r = literal(dt, right.value);
      if (r === undefined) return `value ${String(right.value)} is not a ${dt}`;
      if (v === NONLOCAL)
        return FIB_LOCALISH.has(String(r))
          ? op === "!="
          : "fib address type of a non-local address is not modelled";
      return compareScalar(op, v, r);
    }
    default:
      return `comparison with ${right.kind} is not modelled`;
  }
}

/** `meta random [& MASK] OP N`: the probability that it holds, or undefined when not that shape. */
function randomProbability(m: Match): number | undefined {
  let left = m.left;
  let mask = 0xffffffff;
  if (
    left.kind === "binop" &&
    left.op === "&" &&
    left.right.kind === "immediate" &&
    typeof left.right.value === "number"
  ) {
    mask = left.right.value >>> 0;
    left = left.left;
  }
  if (left.kind !== "meta" || left.key !== "random") return undefined;
  if (m.right.kind !== "immediate" || typeof m.right.value !== "number") return undefined;
  // The masked value is uniform over [0, mask] only for masks of the form 2^k - 1.
  if (((mask + 1) & mask) !== 0 && mask !== 0xffffffff) return undefined;
  const size = mask + 1;
  const n = m.right.value;
  const below = Math.min(Math.max(n, 0), size);
  const counts: Record<string, number> = {
    "<": below,
    "<=": Math.min(below + (n >= 0 && n < size ? 1 : 0), size),
    ">": size - Math.min(below + (n >= 0 && n < size ? 1 : 0), size),
    ">=": size - below,
    "==": n >= 0 && n < size ? 1 : 0,
    "!=": size - (n >= 0 && n < size ? 1 : 0),
  };
  const c = counts[m.op];
  return c === undefined ? undefined : c / size;
}

/** Evaluates one match statement. */
export function evalMatch(m: Match, st: PacketState, ctx: ExprContext): MatchResult {
  const pr = randomProbability(m);
  if (pr !== undefined) {
    const outcomes: MatchOutcome[] = [];
    if (pr > 0) outcomes.push({ p: pr, matched: true, label: `meta random: p=${round(pr)}` });
    if (pr < 1) outcomes.push({ p: 1 - pr, matched: false });
    return { kind: "ok", outcomes };
  }
  const left = evalExpr(m.left, st, ctx);
  if (left.kind === "absent") return { kind: "ok", outcomes: [{ p: 1, matched: false }] };
  if (left.kind === "unknown") return left;
  const types = typeOf(m.left, ctx.table);
  if (types === undefined) return { kind: "unknown", reason: "the type of the left-hand side is not known" };
  const outcomes: MatchOutcome[] = [];
  for (const b of left.branches) {
    if (b.absent) {
      outcomes.push({ p: b.p, matched: false });
      continue;
    }
    const r = compareRight(m.op, b.values, m.right, types, ctx);
    if (typeof r === "string") return { kind: "unknown", reason: r };
    outcomes.push({ p: b.p, matched: r, ...(b.label === undefined ? {} : { label: b.label }) });
  }
  return { kind: "ok", outcomes };
}

function round(p: number): string {
  return String(Math.round(p * 10000) / 10000);
}
