/**
 * Reads the items of a `kubectl get -o json` list file a window at a time, so a 200 MB
 * services.json never sits in memory as one text and one object tree (issue 14). It relies on the
 * layout kubectl (and `collect`) print: pretty-printed, every item starting on its own line, so an
 * item ends at the first line holding only its closing brace at its own indentation. A raw newline
 * cannot occur inside a JSON string, so that line is always structure; and each window is checked
 * by JSON.parse, so a file of any other layout (minified, hand-edited) or a broken one is never
 * misread: the reader answers "not this layout" and the caller parses the whole file as before.
 */
import { type FileHandle, open } from "node:fs/promises";
import { isObj, type Json } from "./json-checks.ts";
import { uidLinesFrom } from "./kube-objects.ts";

/** Bytes read per window. */
const CHUNK_BYTES = 4 << 20;
/**
 * Bytes of items parsed at once: small enough that the parsed tree dies young (a scavenge that
 * meets it copies it), large enough that the per-parse overhead vanishes.
 */
const REGION_BYTES = 256 << 10;
/** Bytes before `"items": [` (or after its `]`) past which the file is not kubectl's layout. */
const ENVELOPE_LIMIT = 1 << 20;
/** Stands in for the items in the list object parsed from what surrounds them. */
const SENTINEL = "\u0000netdoctor: items";

/** The unread part of the file, refilled one chunk at a time. */
class Window {
  /** A view of {@linkcode #store}; nothing else keeps one (what is parsed is decoded to text first). */
  buf: Buffer = Buffer.alloc(0);
  /**
   * One buffer for the whole file, the unread bytes moved to its front before each read: a new
   * 4-8 MB buffer per chunk (50 for a 200 MB list) costs the allocation and the kernel's zeroed
   * pages every time, and the freed ones linger in the allocator (peak RSS).
   */
  #store: Buffer = Buffer.alloc(0);
  readonly #file: FileHandle;
  readonly #chunk: number;

  constructor(file: FileHandle, chunk: number) {
    this.#file = file;
    this.#chunk = chunk;
  }

  /** Appends the next chunk; false at the end of the file. */
  async more(): Promise<boolean> {
    const have = this.buf.length;
    if (this.#store.length < have + this.#chunk) {
      const grown = Buffer.allocUnsafe(Math.max(have + this.#chunk, this.#store.length * 2));
      this.buf.copy(grown, 0);
      this.#store = grown;
    } else if (this.buf.byteOffset !== this.#store.byteOffset) {
      // Overlapping copy (buf is a view of the store): Buffer#copy moves as memmove does.
      this.buf.copy(this.#store, 0);
    }
    const { bytesRead } = await this.#file.read(this.#store, have, this.#chunk, null);
    this.buf = this.#store.subarray(0, have + bytesRead);
    return bytesRead > 0;
  }

  drop(n: number): void {
    this.buf = this.buf.subarray(n);
  }

  /** Index of the first non-whitespace byte, reading on as needed; -1 at the end of the file. */
  async token(): Promise<number> {
    let i = 0;
    for (;;) {
      const b = this.buf;
      for (; i < b.length; i++) {
        const c = b[i]!;
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
      }
      if (!(await this.more())) return -1;
    }
  }
}

function newlines(b: Buffer, end: number): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i !== -1 && i < end; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Index of the `[` of the list's `"items": [`, or -1 when not (yet) in `b`. */
function itemsOpen(b: Buffer): number {
  for (let at = b.indexOf('"items"'); at !== -1; at = b.indexOf('"items"', at + 1)) {
    let i = at + 7;
    while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
    if (b[i] !== 0x3a) continue; // ':'
    i++;
    while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
    if (b[i] === 0x5b) return i; // '['
  }
  return -1;
}

/** Where the last whole item within the first {@linkcode REGION_BYTES} of `b` ends (or the first beyond). */
function lastItemEnd(b: Buffer, marker: Buffer): number {
  const end = b.length > REGION_BYTES ? b.lastIndexOf(marker, REGION_BYTES) : b.lastIndexOf(marker);
  return end === -1 ? b.indexOf(marker, REGION_BYTES) : end;
}

/**
 * `[` + the bytes from `start` to `stop` + `]` as text. When a byte on each side is free (the
 * whitespace before the first item, the separator after the last), they are overwritten for the
 * decoding and restored, so 200 MB of items are not copied once more to add two characters.
 */
function bracketed(b: Buffer, start: number, stop: number): string {
  if (start === 0 || stop >= b.length) return `[${b.toString("utf8", start, stop)}]`;
  const [before, after] = [b[start - 1]!, b[stop]!];
  b[start - 1] = 0x5b;
  b[stop] = 0x5d;
  const text = b.toString("utf8", start - 1, stop + 1);
  b[start - 1] = before;
  b[stop] = after;
  return text;
}

function uidOf(raw: unknown): string | undefined {
  const uid = isObj(raw) && isObj(raw.metadata) ? raw.metadata.uid : undefined;
  return typeof uid === "string" ? uid : undefined;
}

/** Receives each item, with the line of its `"uid"` (as {@linkcode uidLines} finds it). */
export type OnListItem = (raw: unknown, line: number | undefined) => void;

/**
 * Streams the items of the list file at `path` to `onItem`, in order, and returns the list object
 * around them (its `items` replaced by a marker). Returns undefined when the file is not in
 * kubectl's layout, is not valid JSON or cannot be read: then parse it whole (the caller's error
 * messages come from there), discarding what `onItem` was given.
 */
export async function streamKubeList(
  path: string,
  onItem: OnListItem,
  options: { readonly chunkBytes?: number } = {},
): Promise<Json | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    return await readItems(new Window(file, options.chunkBytes ?? CHUNK_BYTES), onItem);
  } catch (error) {
    // A read error: the whole-file read reports it. An error from onItem is the caller's own.
    if (error instanceof Error && "syscall" in error) return undefined;
    throw error;
  } finally {
    await file.close();
  }
}

async function readItems(w: Window, onItem: OnListItem): Promise<Json | undefined> {
  let open = itemsOpen(w.buf);
  while (open === -1) {
    if (w.buf.length > ENVELOPE_LIMIT || !(await w.more())) return undefined;
    open = itemsOpen(w.buf);
  }
  const prefix = w.buf.toString("utf8", 0, open);
  let line = 1 + newlines(w.buf, open);
  w.drop(open + 1);
  let marker: Buffer | undefined;
  for (let first = true; ; first = false) {
    const t = await w.token();
    if (t === -1) return undefined;
    if (first && w.buf[t] === 0x5d) {
      line += newlines(w.buf, t);
      w.drop(t + 1);
      break;
    }
    if (w.buf[t] !== 0x7b) return undefined; // '{'
    if (marker === undefined) {
      // The item's indentation: what precedes its `{` on its line.
      const nl = w.buf.lastIndexOf(0x0a, t);
      if (nl === -1) return undefined;
      marker = Buffer.concat([w.buf.subarray(nl, t), Buffer.from("}")]);
    }
    line += newlines(w.buf, t);
    // One byte before the `{` is kept: it becomes the `[` of the array the items are parsed as.
    const keep = t > 0 ? 1 : 0;
    w.drop(t - keep);
    let end = lastItemEnd(w.buf, marker);
    while (end === -1) {
      if (!(await w.more())) return undefined;
      end = lastItemEnd(w.buf, marker);
    }
    const stop = end + marker.length;
    const text = bracketed(w.buf, keep, stop);
    let items: unknown[];
    try {
      items = JSON.parse(text) as unknown[];
    } catch {
      return undefined;
    }
    const { lines, end: next } = uidLinesFrom(text, line);
    for (const raw of items) {
      const uid = uidOf(raw);
      onItem(raw, uid === undefined ? undefined : lines.get(uid));
    }
    line = next;
    w.drop(stop);
    const s = await w.token();
    if (s === -1) return undefined;
    line += newlines(w.buf, s);
    const c = w.buf[s];
    w.drop(s + 1);
    if (c === 0x5d) break; // ']'
    if (c !== 0x2c) return undefined; // ','
  }
  while (await w.more()) if (w.buf.length > ENVELOPE_LIMIT) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(`${prefix}${JSON.stringify(SENTINEL)}${w.buf.toString("utf8")}`);
  } catch {
    return undefined;
  }
  // The `"items"` found must be the list's own (the last one, as JSON.parse keeps the last key).
  return isObj(list) && list.items === SENTINEL ? list : undefined;
}
