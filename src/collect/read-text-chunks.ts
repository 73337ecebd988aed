import { isAscii } from "node:buffer";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";

/** Chunk size for reading dumps: large enough that per-chunk overhead vanishes. */
const CHUNK = 1 << 20;

/** How the bytes of a text file were stored. */
export type TextEncoding = "utf-8" | "utf-8-bom" | "utf-16le" | "utf-16be";

/** What {@linkcode readTextChunks} found about the file before decoding it. */
export interface TextSource {
  /** The file was gzip-compressed (`iptables-save | gzip`, a rotated log). */
  readonly gzip: boolean;
  /** `utf-16le`/`be`: PowerShell's `>` (with or without its byte order mark). */
  readonly encoding: TextEncoding;
}

/** Options of {@linkcode readTextChunks}. */
export interface ReadTextOptions {
  /** Called once, before the first chunk, with how the file is stored. */
  readonly onSource?: (source: TextSource) => void;
}

/** Gathers at least `n` bytes from the front of `it` (fewer only at the end of the input). */
async function front(it: AsyncIterator<Buffer>, n: number): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const next = await it.next();
    if (next.done) return { head: Buffer.concat(parts), done: true };
    parts.push(next.value);
    size += next.value.length;
  }
  return { head: Buffer.concat(parts), done: false };
}

async function* rest(head: Buffer, it: AsyncIterator<Buffer>, done: boolean): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  if (done) return;
  for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
}

/** The stream's chunks as bytes; a read error becomes a {@linkcode CollectError} naming the file. */
function bytesOf(stream: AsyncIterable<Buffer | string>, path: string): AsyncIterator<Buffer> {
  const it = stream[Symbol.asyncIterator]();
  return {
    next: async () => {
      let r: IteratorResult<Buffer | string>;
      try {
        r = await it.next();
      } catch (error) {
        const what = path === "-" ? "stdin" : `"${path}"`;
        throw new CollectError(`Cannot read ${what}: ${errorWords(error)}`, { cause: error });
      }
      return r.done
        ? r
        : { done: false, value: typeof r.value === "string" ? Buffer.from(r.value) : r.value };
    },
  };
}

/** The encoding told by a byte order mark, or by the zero bytes of ASCII text in UTF-16. */
function encodingOf(b: Buffer): TextEncoding {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return "utf-8-bom";
  if (b[0] === 0xff && b[1] === 0xfe) return "utf-16le";
  if (b[0] === 0xfe && b[1] === 0xff) return "utf-16be";
  if (b.length >= 4 && b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) return "utf-16le";
  if (b.length >= 4 && b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0) return "utf-16be";
  return "utf-8";
}

/**
 * UTF-8 text of a byte stream. Dumps are nearly always pure ASCII, and a Latin-1 decode of an ASCII
 * chunk gives the same text about four times faster than UTF-8 decoding, so ASCII chunks take that
 * path; any other chunk goes through a streaming UTF-8 decoder (multi-byte characters split across
 * chunks are joined: their bytes are never ASCII).
 */
async function* utf8(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let pending = false;
  for await (const chunk of chunks) {
    if (isAscii(chunk)) {
      if (pending) {
        // The previous chunk ended inside a multi-byte character that ASCII cannot complete.
        const tail = decoder.end();
        if (tail.length > 0) yield tail;
        pending = false;
      }
      yield chunk.toString("latin1");
      continue;
    }
    const text = decoder.write(chunk);
    pending = true;
    if (text.length > 0) yield text;
  }
  if (pending) {
    const tail = decoder.end();
    if (tail.length > 0) yield tail;
  }
}

async function* utf16(chunks: AsyncIterable<Buffer>, label: "utf-16le" | "utf-16be"): AsyncGenerator<string> {
  const decoder = new TextDecoder(label);
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield text;
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield tail;
}

/** Decompresses a gzip stream; a broken one becomes a {@linkcode CollectError} naming the file. */
async function* gunzip(chunks: AsyncIterable<Buffer>, path: string): AsyncGenerator<Buffer> {
  const stream = Readable.from(chunks).pipe(createGunzip({ chunkSize: 1 << 16 }));
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    const what = path === "-" ? "stdin" : `"${path}"`;
    throw new CollectError(
      `Cannot read ${what}: it starts like gzip but does not decompress (${errorWords(error)})`,
      {
        cause: error,
      },
    );
  } finally {
    stream.destroy();
  }
}

/**
 * Reads a file (or stdin for "-") as text chunks: gzip is decompressed, a UTF-8 byte order mark is
 * dropped and UTF-16 (PowerShell's `>`, told by its byte order mark or by the zero bytes of ASCII
 * text) is decoded; anything else is read as UTF-8.
 *
 * @example
 * ```ts
 * for await (const text of readTextChunks("w3.txt")) reader.push(text);
 * ```
 */
export async function* readTextChunks(path: string, options: ReadTextOptions = {}): AsyncGenerator<string> {
  const stream = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: CHUNK });
  let it = bytesOf(stream as AsyncIterable<Buffer | string>, path);
  let { head, done } = await front(it, 4);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  if (gzip) {
    it = gunzip(rest(head, it, done), path)[Symbol.asyncIterator]();
    ({ head, done } = await front(it, 4));
  }
  const encoding = encodingOf(head);
  options.onSource?.({ gzip, encoding });
  const bom = encoding === "utf-8-bom" ? 3 : head[0] === 0xff || head[0] === 0xfe ? 2 : 0;
  const body = rest(head.subarray(encoding === "utf-8" ? 0 : bom), it, done);
  if (encoding === "utf-16le" || encoding === "utf-16be") yield* utf16(body, encoding);
  else yield* utf8(body);
}
