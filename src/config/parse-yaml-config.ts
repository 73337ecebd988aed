import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseAllDocuments,
  type Scalar,
  type Node as YamlNode,
} from "yaml";
import { makeDocument } from "./config-document.ts";
import { ConfigSyntaxError } from "./config-syntax-error.ts";
import type { ConfigDocument, PropertyEntry } from "./config-types.ts";
import { springPlainScalar } from "./yaml-scalar.ts";

/** Deeper nesting than this is refused (aliases can otherwise make a tiny file huge). */
const MAX_DEPTH = 64;
/** More flattened properties than this in one file is refused (alias bombs). */
const MAX_ENTRIES = 200_000;

interface Walk {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lc: LineCounter;
  readonly lines: readonly string[];
  readonly out: PropertyEntry[];
}

function lineOf(w: Walk, offset: number | undefined): number {
  return offset === undefined ? 1 : w.lc.linePos(offset).line;
}

/** A scalar's string as Spring sees it: plain scalars go through SnakeYAML's resolution rules. */
function scalarString(node: Scalar): string | undefined {
  if (node.type === "PLAIN" && node.tag === undefined && typeof node.source === "string") {
    return springPlainScalar(node.source);
  }
  const v = node.value;
  if (v === null || v === undefined) return undefined;
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

/** Spring's YamlProcessor keys: strings as they are, any other key type in brackets (`[true]`). */
function keyString(node: unknown): string {
  if (isScalar(node)) {
    const plain = node.type === "PLAIN" && node.tag === undefined;
    const s = scalarString(node) ?? "";
    return plain && typeof node.source === "string" && s !== node.source ? `[${s}]` : s;
  }
  return String(node);
}

function join(path: string, key: string): string {
  if (path === "") return key;
  return key.startsWith("[") ? path + key : `${path}.${key}`;
}

function push(w: Walk, key: string, value: string, offset: number | undefined): void {
  if (w.out.length >= MAX_ENTRIES) {
    throw new ConfigSyntaxError(
      w.file,
      lineOf(w, offset),
      `more than ${MAX_ENTRIES} properties (alias bomb?)`,
    );
  }
  const line = lineOf(w, offset);
  w.out.push({ key, value, file: w.file, line, text: w.lines[line - 1] ?? "" });
}

function deref(w: Walk, node: unknown): unknown {
  return isAlias(node) ? node.resolve(w.doc) : node;
}

/** Pairs of a mapping with YAML merge keys (`<<: *base`) applied; explicit keys win. */
function mapPairs(w: Walk, node: YamlNode): Pair[] {
  if (!isMap(node)) return [];
  const merged = new Map<string, Pair>();
  const own: Pair[] = [];
  for (const pair of node.items) {
    const k = pair.key;
    if (isScalar(k) && k.source === "<<" && k.type === "PLAIN") {
      const v = deref(w, pair.value);
      const sources = isSeq(v) ? v.items.map((i) => deref(w, i)) : [v];
      for (const src of sources) {
        for (const p of mapPairs(w, src as YamlNode)) {
          const ks = keyString(p.key);
          if (!merged.has(ks)) merged.set(ks, p);
        }
      }
    } else {
      own.push(pair);
    }
  }
  const ownKeys = new Set(own.map((p) => keyString(p.key)));
  return [...[...merged.entries()].filter(([k]) => !ownKeys.has(k)).map(([, p]) => p), ...own];
}

function flatten(
  w: Walk,
  node: unknown,
  path: string,
  fallbackOffset: number | undefined,
  depth: number,
): void {
  if (depth > MAX_DEPTH) {
    throw new ConfigSyntaxError(w.file, lineOf(w, fallbackOffset), `nesting deeper than ${MAX_DEPTH} levels`);
  }
  const n = deref(w, node);
  if (n === null || n === undefined) {
    if (path !== "") push(w, path, "", fallbackOffset);
    return;
  }
  if (isMap(n)) {
    for (const pair of mapPairs(w, n)) {
      const keyNode = pair.key as YamlNode | null;
      const offset = (keyNode as { range?: [number, number, number] } | null)?.range?.[0];
      flatten(w, pair.value, join(path, keyString(keyNode)), offset, depth + 1);
    }
    return;
  }
  if (isSeq(n)) {
    if (n.items.length === 0) push(w, path, "", n.range?.[0] ?? fallbackOffset);
    n.items.forEach((item, i) => {
      flatten(w, item, `${path}[${i}]`, (item as YamlNode | null)?.range?.[0] ?? fallbackOffset, depth + 1);
    });
    return;
  }
  if (isScalar(n)) {
    if (path === "") return;
    push(w, path, scalarString(n) ?? "", n.range?.[0] ?? fallbackOffset);
  }
}

/**
 * Parses a Spring YAML file (`application.yml`, `bootstrap.yml`) into flattened documents, each
 * property with the line of its value. Scalars follow SnakeYAML's YAML 1.1 rules (see
 * {@linkcode springPlainScalar}); keys flatten as Spring's `YamlProcessor` does (`a.b[0].c`).
 *
 * @throws {ConfigSyntaxError} with the file and line of the first YAML error
 */
export function parseYamlConfig(text: string, options: { file: string }): ConfigDocument[] {
  const { file } = options;
  const lc = new LineCounter();
  const parsed = parseAllDocuments(text, {
    version: "1.1",
    lineCounter: lc,
    merge: true,
    prettyErrors: false,
  });
  // An empty stream is an empty array (with an `empty` flag).
  const docs: Document.Parsed[] = [...parsed];
  const lines = text.split(/\r\n|\r|\n/);
  const out: ConfigDocument[] = [];
  docs.forEach((doc, index) => {
    const err = doc.errors[0];
    if (err) {
      const detail = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      throw new ConfigSyntaxError(file, lc.linePos(err.pos[0]).line, detail);
    }
    const w: Walk = { file, doc, lc, lines, out: [] };
    if (doc.contents !== null && !isMap(doc.contents) && !isScalar(doc.contents)) {
      throw new ConfigSyntaxError(file, lineOf(w, doc.contents.range?.[0]), "a document must be a mapping");
    }
    flatten(w, doc.contents, "", undefined, 0);
    if (w.out.length > 0) out.push(makeDocument(w.out, { file, index }));
  });
  return out;
}
