/**
 * Typed reads of parsed JSON with messages that name the field path, for the bundle's schema
 * checks (hand-written: no schema library). A failed check throws {@linkcode ItemError}.
 */
export type Json = Record<string, unknown>;

/** A model type under construction: its optional fields are assigned one by one, never spread. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

export class ItemError extends Error {}

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Every check takes the field's path as `path` plus an optional `sub` (`".name"`, or an index for
 * `[3]`) joined only for a message: 100,000 objects need not build a path string per field.
 */
function at(path: string, sub: string | number | undefined): string {
  return sub === undefined ? path : typeof sub === "number" ? `${path}[${sub}]` : `${path}${sub}`;
}

export function obj(v: unknown, path: string, sub?: string | number): Json {
  if (!isObj(v)) throw new ItemError(`${at(path, sub)}: expected an object, got ${describe(v)}`);
  return v;
}

export function optObj(v: unknown, path: string, sub?: string | number): Json | undefined {
  return v === undefined || v === null ? undefined : obj(v, path, sub);
}

export function arr(v: unknown, path: string, sub?: string | number): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ItemError(`${at(path, sub)}: expected an array, got ${describe(v)}`);
  return v;
}

export function str(v: unknown, path: string, sub?: string | number): string {
  if (typeof v !== "string") throw new ItemError(`${at(path, sub)}: expected a string, got ${describe(v)}`);
  return v;
}

export function optStr(v: unknown, path: string, sub?: string | number): string | undefined {
  return v === undefined || v === null ? undefined : str(v, path, sub);
}

export function port(v: unknown, path: string, sub?: string | number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new ItemError(`${at(path, sub)}: expected a port number 0-65535, got ${describe(v)}`);
  }
  return v;
}

export function optPort(v: unknown, path: string, sub?: string | number): number | undefined {
  return v === undefined || v === null ? undefined : port(v, path, sub);
}

export function optBool(v: unknown, path: string, sub?: string | number): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean")
    throw new ItemError(`${at(path, sub)}: expected true or false, got ${describe(v)}`);
  return v;
}

export function strMap(v: unknown, path: string, sub?: string | number): Record<string, string> | undefined {
  const o = optObj(v, path, sub);
  if (o === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(o)) {
    const val = o[k];
    out[k] = typeof val === "string" ? val : str(val, at(path, sub), `.${k}`);
  }
  return out;
}

export function strList(v: unknown, path: string, sub?: string | number): string[] {
  return arr(v, path, sub).map((x, i) => (typeof x === "string" ? x : str(x, at(path, sub), i)));
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === "object" ? "an object" : String(v);
}
