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

export function obj(v: unknown, path: string): Json {
  if (!isObj(v)) throw new ItemError(`${path}: expected an object, got ${describe(v)}`);
  return v;
}

export function optObj(v: unknown, path: string): Json | undefined {
  return v === undefined || v === null ? undefined : obj(v, path);
}

export function arr(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ItemError(`${path}: expected an array, got ${describe(v)}`);
  return v;
}

export function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new ItemError(`${path}: expected a string, got ${describe(v)}`);
  return v;
}

export function optStr(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, path);
}

export function port(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new ItemError(`${path}: expected a port number 0-65535, got ${describe(v)}`);
  }
  return v;
}

export function optPort(v: unknown, path: string): number | undefined {
  return v === undefined || v === null ? undefined : port(v, path);
}

export function optBool(v: unknown, path: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new ItemError(`${path}: expected true or false, got ${describe(v)}`);
  return v;
}

export function strMap(v: unknown, path: string): Record<string, string> | undefined {
  const o = optObj(v, path);
  if (o === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = str(val, `${path}.${k}`);
  return out;
}

export function strList(v: unknown, path: string): string[] {
  return arr(v, path).map((x, i) => str(x, `${path}[${i}]`));
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === "object" ? "an object" : String(v);
}
