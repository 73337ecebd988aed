import { makeDocument } from "./config-document.ts";
import { ConfigSyntaxError } from "./config-syntax-error.ts";
import type { ConfigDocument, PropertyEntry } from "./config-types.ts";

const WS = new Set([" ", "\t", "\f"]);

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i]!)) i++;
  return i;
}

/** Counts the backslashes that end `s` (an odd count continues the line). */
function trailingBackslashes(s: string): number {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === "\\"; i--) n++;
  return n;
}

/** Reads one escape at `s[i] === "\\"`; returns the character and the next index. */
function readEscape(s: string, i: number, file: string, line: number): [string, number] {
  const c = s[i + 1];
  if (c === undefined) return ["", i + 1];
  switch (c) {
    case "t":
      return ["\t", i + 2];
    case "n":
      return ["\n", i + 2];
    case "r":
      return ["\r", i + 2];
    case "f":
      return ["\f", i + 2];
    case "u": {
      const hex = s.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new ConfigSyntaxError(file, line, `malformed \\uxxxx escape "\\u${hex}"`);
      }
      return [String.fromCharCode(Number.parseInt(hex, 16)), i + 6];
    }
    default:
      return [c, i + 2];
  }
}

/** Splits a logical line into key and value as `java.util.Properties.load` does. */
function splitKeyValue(s: string, file: string, line: number): [string, string] {
  let key = "";
  let i = 0;
  let sep = false;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "\\") {
      const [ch, next] = readEscape(s, i, file, line);
      key += ch;
      i = next;
      continue;
    }
    if (c === "=" || c === ":") {
      i++;
      sep = true;
      break;
    }
    if (WS.has(c)) break;
    key += c;
    i++;
  }
  i = skipWs(s, i);
  if (!sep && (s[i] === "=" || s[i] === ":")) i = skipWs(s, i + 1);
  let value = "";
  while (i < s.length) {
    if (s[i] === "\\") {
      const [ch, next] = readEscape(s, i, file, line);
      value += ch;
      i = next;
    } else {
      value += s[i];
      i++;
    }
  }
  return [key, value];
}

/**
 * Parses a Java `.properties` file as Spring Boot does: `=`, `:` or whitespace separators, `#` and `!`
 * comments, continuation lines, `\t \n \r \f \uXXXX` escapes (any other escaped character stands
 * for itself), and Spring Boot's multi-document separator `#---` / `!---`.
 * Each entry keeps the line its key starts on.
 *
 * @throws {ConfigSyntaxError} on a malformed `\uXXXX` escape (Java refuses the file too)
 */
export function parseProperties(text: string, options: { file: string }): ConfigDocument[] {
  const { file } = options;
  const lines = text.split(/\r\n|\r|\n/);
  const docs: ConfigDocument[] = [];
  let entries: PropertyEntry[] = [];
  const flush = () => {
    if (entries.length > 0) docs.push(makeDocument(entries, { file, index: docs.length }));
    entries = [];
  };
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const start = skipWs(raw, 0);
    if (start === raw.length) continue;
    const first = raw[start];
    if (first === "#" || first === "!") {
      if (start === 0 && /^[#!]---\s*$/.test(raw)) flush();
      continue;
    }
    const lineNo = n + 1;
    let logical = raw.slice(start);
    while (trailingBackslashes(logical) % 2 === 1 && n + 1 < lines.length) {
      n++;
      const next = lines[n]!;
      logical = logical.slice(0, -1) + next.slice(skipWs(next, 0));
    }
    if (trailingBackslashes(logical) % 2 === 1) logical = logical.slice(0, -1);
    const [key, value] = splitKeyValue(logical, file, lineNo);
    entries.push({ key, value, file, line: lineNo, text: raw });
  }
  flush();
  return docs;
}
