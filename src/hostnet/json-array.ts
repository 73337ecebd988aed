/**
 * The shared reader of `ip -j` / `bridge -j` output: one JSON array whose items become typed
 * records, each keeping where it came from (file, line, JSON path) for evidence.
 */
import type { Evidence } from "../model/finding.ts";
import { jsonErrorOffset } from "./json-error-offset.ts";

/** Something a parser kept going past: an item it could not read, or a field with the wrong type. */
export interface HostParseWarning {
  /** Bundle-relative file. */
  readonly file: string;
  /** 1-indexed line. */
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

/** One item of the top-level array, with its index and the line it starts on. */
export interface JsonArrayItem {
  readonly value: unknown;
  readonly index: number;
  readonly line: number;
}

/** A JSON object, as `JSON.parse` returns it. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** Longest evidence text kept for one JSON item (the rest is cut with `...`). */
const MAX_EVIDENCE_TEXT = 400;

/** Start lines of the top-level array's items, by a scan that honours strings and nesting. */
function itemLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectItem = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\n") continue;
    if (depth === 1 && expectItem && c !== "]") {
      lines.push(line);
      expectItem = false;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth === 1) expectItem = true;
    } else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 1) expectItem = true;
  }
  return lines;
}

/** Line and column of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * Parses the output of `ip -j ...` / `bridge -j ...`: a JSON array (or empty output, which some
 * iproute2 versions print for an empty table).
 *
 * @throws {SyntaxError} When the text is not JSON or not an array: `Cannot parse nodes/a/ip-route.json
 *   at line 1, column 7: ...`.
 */
export function parseJsonArray(text: string, options: { file: string }): JsonArrayItem[] {
  if (text.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message.replace(/, "[\s\S]*" is not valid JSON$/, "");
    const where = position(text, jsonErrorOffset(text) ?? 0);
    throw new SyntaxError(
      `Cannot parse ${options.file} at line ${where.line}, column ${where.column}: ${message.split("\n")[0]}`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new SyntaxError(`Cannot parse ${options.file} at line 1, column 1: expected a JSON array`);
  }
  const lines = itemLines(text);
  return parsed.map((value, index) => ({ value, index, line: lines[index] ?? 1 }));
}

/** Evidence for one array item: the file, its line, and `$[i] {compact JSON}`. */
export function itemEvidence(file: string, item: JsonArrayItem): Evidence {
  let json = JSON.stringify(item.value);
  if (json.length > MAX_EVIDENCE_TEXT) json = `${json.slice(0, MAX_EVIDENCE_TEXT - 3)}...`;
  return { file, line: item.line, text: `$[${item.index}] ${json}` };
}

/** The item as an object, or undefined (with a warning pushed) when it is something else. */
export function itemObject(
  file: string,
  item: JsonArrayItem,
  warnings: HostParseWarning[],
): JsonObject | undefined {
  if (typeof item.value === "object" && item.value !== null && !Array.isArray(item.value)) {
    return item.value as JsonObject;
  }
  warnings.push({
    file,
    line: item.line,
    text: String(JSON.stringify(item.value)).slice(0, 200),
    reason: `$[${item.index}] is not a JSON object`,
  });
  return undefined;
}

/** A string field, or undefined. */
export function str(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}

/** A number field, or undefined. */
export function num(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A boolean field, or undefined. */
export function bool(o: JsonObject, key: string): boolean | undefined {
  const v = o[key];
  return typeof v === "boolean" ? v : undefined;
}

/** A string-array field (e.g. `flags`), or an empty array. */
export function strings(o: JsonObject, key: string): readonly string[] {
  const v = o[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** A nested object field, or undefined. */
export function obj(o: JsonObject, key: string): JsonObject | undefined {
  const v = o[key];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}
