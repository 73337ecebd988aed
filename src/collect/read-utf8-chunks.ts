/**
 * The decoding edge of dumps: a file (or stdin) becomes UTF-8 bytes for the byte reader. Plain
 * UTF-8 (nearly every dump) passes through untouched, chunk by chunk, so the reader sees the file's
 * own bytes; gzip is decompressed, a UTF-8 byte order mark is dropped and UTF-16 (PowerShell's `>`)
 * is transcoded.
 */
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import { readByteChunks } from "./read-byte-chunks.ts";

/** How the bytes of a text file were stored. */
export type TextEncoding = "utf-8" | "utf-8-bom" | "utf-16le" | "utf-16be";

/** What {@linkcode readUtf8Chunks} found about the file before decoding it. */
export interface TextSource {
  /** The file was gzip-compressed (`iptables-save | gzip`, a rotated log). */
  readonly gzip: boolean;
  /** `utf-16le`/`be`: PowerShell's `>` (with or without its byte order mark). */
  readonly encoding: TextEncoding;
}

/** Options of {@linkcode readUtf8Chunks}. */
export interface ReadUtf8Options {
  /** Called once, before the first chunk, with how the file is stored. */
  readonly onSource?: (source: TextSource) => void;
  /**
   * Plain UTF-8 files are read into two reused buffers (see {@linkcode readByteChunks}): only for a
   * consumer that keeps nothing of a chunk once it asks for the next one.
   */
  readonly reuse?: boolean;
}

function what(path: string): string {
  return path === "-" ? "stdin" : `"${path}"`;
}

/** The chunks of `it`; a read error becomes a {@linkcode CollectError} naming the file. */
function named(it: AsyncIterator<Uint8Array>, path: string): AsyncIterator<Uint8Array> {
  return {
    next: async () => {
      try {
        return await it.next();
      } catch (error) {
        if (error instanceof CollectError) throw error;
        throw new CollectError(`Cannot read ${what(path)}: ${errorWords(error)}`, { cause: error });
      }
    },
  };
}

/**
 * At least `n` bytes from the front of `it` (fewer only at the end of the input). A first chunk that
 * is long enough is returned as is; shorter ones are copied together (a reused buffer would be
 * overwritten by the next read).
 */
async function front(it: AsyncIterator<Uint8Array>, n: number): Promise<{ head: Uint8Array; done: boolean }> {
  const first = await it.next();
  if (first.done) return { head: new Uint8Array(0), done: true };
  if (first.value.length >= n) return { head: first.value, done: false };
  const parts: Buffer[] = [Buffer.from(first.value)];
  let size = first.value.length;
  while (size < n) {
    const next = await it.next();
    if (next.done) return { head: Buffer.concat(parts), done: true };
    parts.push(Buffer.from(next.value));
    size += next.value.length;
  }
  return { head: Buffer.concat(parts), done: false };
}

/** `head`, then what is left of `it` (unless `done`): a stream whose first bytes were read to look at them. */
export async function* prepend(
  head: Uint8Array,
  it: AsyncIterator<Uint8Array>,
  done: boolean,
): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  if (done) return;
  for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
}

/** The encoding told by a byte order mark, or by the zero bytes of ASCII text in UTF-16. */
function encodingOf(b: Uint8Array): TextEncoding {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return "utf-8-bom";
  if (b[0] === 0xff && b[1] === 0xfe) return "utf-16le";
  if (b[0] === 0xfe && b[1] === 0xff) return "utf-16be";
  if (b.length >= 4 && b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) return "utf-16le";
  if (b.length >= 4 && b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0) return "utf-16be";
  return "utf-8";
}

/** UTF-16 transcoded to UTF-8 bytes; a character cut by a chunk border is joined first. */
async function* utf16(
  chunks: AsyncIterable<Uint8Array>,
  label: "utf-16le" | "utf-16be",
): AsyncGenerator<Uint8Array> {
  const decoder = new TextDecoder(label);
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield Buffer.from(text, "utf8");
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield Buffer.from(tail, "utf8");
}

/** Decompresses a gzip stream; a broken one becomes a {@linkcode CollectError} naming the file. */
async function* gunzip(chunks: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<Uint8Array> {
  // The stream reads ahead of zlib: each chunk is copied (a reused buffer would change under it).
  async function* copies(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) yield Buffer.from(chunk);
  }
  // Loaded here, not at start-up: most dumps are not gzipped, and loading zlib costs every command
  // that reads a dump about 2 ms.
  const { Readable } = await import("node:stream");
  const { createGunzip } = await import("node:zlib");
  const stream = Readable.from(copies()).pipe(createGunzip({ chunkSize: 1 << 16 }));
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(
      `Cannot read ${what(path)}: it starts like gzip but does not decompress (${errorWords(error)})`,
      { cause: error },
    );
  } finally {
    stream.destroy();
  }
}

/**
 * Reads a file (or stdin for "-") as chunks of UTF-8 bytes (see the file comment). Bytes that are
 * not UTF-8 pass through: the dump reader decodes the lines it reads as text.
 *
 * @example
 * ```ts
 * for await (const bytes of readUtf8Chunks("w3.txt.gz")) reader.push(bytes);
 * ```
 */
export async function* readUtf8Chunks(
  path: string,
  options: ReadUtf8Options = {},
): AsyncGenerator<Uint8Array> {
  const raw = readByteChunks(path, { reuse: options.reuse === true })[Symbol.asyncIterator]();
  let it = named(raw, path);
  let { head, done } = await front(it, 4);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  if (gzip) {
    it = gunzip(prepend(head, it, done), path)[Symbol.asyncIterator]();
    ({ head, done } = await front(it, 4));
  }
  const encoding = encodingOf(head);
  options.onSource?.({ gzip, encoding });
  const bom = encoding === "utf-8-bom" ? 3 : head[0] === 0xff || head[0] === 0xfe ? 2 : 0;
  const body = prepend(head.subarray(encoding === "utf-8" ? 0 : bom), it, done);
  if (encoding === "utf-16le" || encoding === "utf-16be") yield* utf16(body, encoding);
  else yield* body;
}
