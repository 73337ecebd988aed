/**
 * Set and map lookups with nft semantics: elements are values, prefixes, ranges or (for interface
 * names) `eth*` wildcards, one per concatenated component; a key is in the set when every component
 * lies in the element's component. Named sets are indexed once (exact keys in a hash map, intervals
 * scanned), so kube-proxy's maps of thousands of Services stay cheap.
 */
import { literal, type NftDatatype, type Scalar } from "./nft-datatypes.ts";
import type { NftElement, NftExpr, NftSet } from "./nft-ruleset.ts";

/** One component of an element: a closed numeric interval, or a string (exact or prefix*). */
export type Component =
  | { readonly lo: number; readonly hi: number }
  | { readonly str: string; readonly wildcard: boolean };

export interface Pattern {
  readonly components: readonly Component[];
  readonly element: NftElement;
}

/** A prepared set: patterns by exact key, and the rest for scanning. */
export interface SetIndex {
  readonly exact: ReadonlyMap<string, Pattern>;
  readonly scan: readonly Pattern[];
  /** Elements that could not be read for the key type (an IPv6 address in an ipv4 set...). */
  readonly unreadable: number;
}

const PREFIX_MASK = (len: number): number => (len <= 0 ? 0 : (0xffffffff << (32 - Math.min(len, 32))) >>> 0);

/** One component of an element key, or undefined when it cannot be read as `dt`. */
export function component(e: NftExpr, dt: NftDatatype): Component | undefined {
  switch (e.kind) {
    case "immediate": {
      if (
        dt === "ifname" &&
        typeof e.value === "string" &&
        e.value.endsWith("*") &&
        !e.value.endsWith("\\*")
      ) {
        return { str: e.value.slice(0, -1), wildcard: true };
      }
      const v = literal(dt, e.value);
      if (v === undefined) return undefined;
      return typeof v === "string" ? { str: v, wildcard: false } : { lo: v, hi: v };
    }
    case "prefix": {
      if (e.addr.kind !== "immediate") return undefined;
      const base = literal(dt, e.addr.value);
      if (typeof base !== "number") return undefined;
      const mask = PREFIX_MASK(e.len);
      const lo = (base & mask) >>> 0;
      return { lo, hi: (lo | ~mask) >>> 0 };
    }
    case "range": {
      if (e.from.kind !== "immediate" || e.to.kind !== "immediate") return undefined;
      const lo = literal(dt, e.from.value);
      const hi = literal(dt, e.to.value);
      return typeof lo === "number" && typeof hi === "number" ? { lo, hi } : undefined;
    }
    default:
      return undefined;
  }
}

/** The components of an element key for `types`, or undefined when one cannot be read. */
export function patternOf(el: NftElement, types: readonly NftDatatype[]): Pattern | undefined {
  const parts = types.length > 1 ? (el.key.kind === "concat" ? el.key.items : undefined) : [el.key];
  if (parts === undefined || parts.length !== types.length) return undefined;
  const components: Component[] = [];
  for (let i = 0; i < parts.length; i++) {
    const c = component(parts[i]!, types[i]!);
    if (c === undefined) return undefined;
    components.push(c);
  }
  return { components, element: el };
}

function exactKey(values: readonly Scalar[]): string {
  return values.map((v) => (typeof v === "number" ? `#${v}` : `$${v}`)).join("\u0000");
}

function exactOf(p: Pattern): readonly Scalar[] | undefined {
  const out: Scalar[] = [];
  for (const c of p.components) {
    if ("str" in c) {
      if (c.wildcard) return undefined;
      out.push(c.str);
    } else if (c.lo === c.hi) out.push(c.lo);
    else return undefined;
  }
  return out;
}

/** Indexes `elements` for lookups of keys of `types`. */
export function indexElements(elements: readonly NftElement[], types: readonly NftDatatype[]): SetIndex {
  const exact = new Map<string, Pattern>();
  const scan: Pattern[] = [];
  let unreadable = 0;
  for (const el of elements) {
    const p = patternOf(el, types);
    if (p === undefined) {
      unreadable++;
      continue;
    }
    const ex = exactOf(p);
    if (ex === undefined) scan.push(p);
    else {
      const k = exactKey(ex);
      if (!exact.has(k)) exact.set(k, p);
    }
  }
  return { exact, scan, unreadable };
}

const namedCache = new WeakMap<NftSet, SetIndex>();
const anonCache = new WeakMap<object, SetIndex>();

/** The (cached) index of a named set, read with the set's own key types. */
export function namedSetIndex(set: NftSet, types: readonly NftDatatype[]): SetIndex {
  let ix = namedCache.get(set);
  if (ix === undefined) {
    ix = indexElements(set.elements, types);
    namedCache.set(set, ix);
  }
  return ix;
}

/** The (cached) index of an anonymous set expression. */
export function anonymousSetIndex(expr: NftExpr & { kind: "set" }, types: readonly NftDatatype[]): SetIndex {
  let ix = anonCache.get(expr);
  if (ix === undefined) {
    ix = indexElements(expr.elements, types);
    anonCache.set(expr, ix);
  }
  return ix;
}

function componentHas(c: Component, v: Scalar): boolean {
  if ("str" in c) return typeof v === "string" && (c.wildcard ? v.startsWith(c.str) : v === c.str);
  return typeof v === "number" && v >= c.lo && v <= c.hi;
}

/** The element whose key holds `values`, or undefined. */
export function lookup(ix: SetIndex, values: readonly Scalar[]): NftElement | undefined {
  const hit = ix.exact.get(exactKey(values));
  if (hit !== undefined) return hit.element;
  for (const p of ix.scan) {
    if (p.components.every((c, i) => componentHas(c, values[i]!))) return p.element;
  }
  return undefined;
}

/** True when some element's component `i` is a string outside `allowed` (fib type lookups). */
export function hasStringOutside(ix: SetIndex, i: number, allowed: ReadonlySet<string>): boolean {
  const all = [...ix.exact.values(), ...ix.scan];
  return all.some((p) => {
    const c = p.components[i];
    return c !== undefined && "str" in c && !allowed.has(c.str);
  });
}
