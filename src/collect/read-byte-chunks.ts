import { type FileHandle, open } from "node:fs/promises";

/** Bytes read per chunk: large enough that per-chunk overhead vanishes, small enough to stay in cache. */
export const CHUNK_BYTES = 4 << 20;

/** Options of {@linkcode readByteChunks}. */
export interface ReadByteChunksOptions {
  /**
   * Read every chunk into the same buffer (default false). Only for a consumer that keeps nothing of
   * a chunk once it asks for the next one (a scan); a parser whose rules point into the dump needs
   * fresh chunks.
   */
  readonly reuse?: boolean;
}

/**
 * Reads a file (or stdin for "-") as chunks of raw bytes, for {@linkcode DumpReader.push}: no text
 * decoding here, the reader decodes only the lines it needs as text. A file's chunks end after a
 * line feed (but the last, and any chunk holding no line feed at all), so the reader seldom has to
 * join a line from two chunks (see {@linkcode lineChunks}).
 *
 * @example
 * ```ts
 * for await (const chunk of readByteChunks("w3.txt", { reuse: true })) reader.push(chunk);
 * ```
 */
export async function* readByteChunks(
  path: string,
  options: ReadByteChunksOptions = {},
): AsyncGenerator<Uint8Array> {
  if (path === "-") {
    for await (const chunk of process.stdin as AsyncIterable<Buffer | string>) {
      yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    }
    return;
  }
  const file = await open(path, "r");
  try {
    yield* lineChunks(file, options.reuse === true);
  } finally {
    await file.close();
  }
}

/**
 * The chunks of an open file, each cut after its last line feed; the rest of the line starts the
 * next chunk. A parser keeps every chunk: then one buffer of the file's size is one allocation
 * instead of one per chunk (each of which would count as external memory and prompt the garbage
 * collector), and the chunks are its consecutive parts. A scan keeps nothing: then one buffer is
 * reused, the cut line moved to its front before the next read.
 */
async function* lineChunks(file: FileHandle, reuse: boolean): AsyncGenerator<Uint8Array> {
  const size = reuse ? 0 : (await file.stat()).size;
  let whole = size > 0 ? Buffer.allocUnsafeSlow(size) : undefined;
  let from = 0;
  let filled = 0;
  while (whole !== undefined && filled < whole.length) {
    const { bytesRead } = await file.read(whole, filled, Math.min(CHUNK_BYTES, whole.length - filled), null);
    if (bytesRead === 0) break;
    filled += bytesRead;
    const cut = filled === whole.length ? filled : whole.lastIndexOf(10, filled - 1) + 1;
    if (cut > from) {
      yield whole.subarray(from, cut);
      from = cut;
    }
  }
  // The file ended early, grew while read, or has no size (as /proc files): buffer by buffer from here.
  let buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  let tail = 0;
  if (whole !== undefined && from < filled) {
    if (filled - from > CHUNK_BYTES) buffer = Buffer.allocUnsafeSlow(filled - from);
    tail = whole.copy(buffer, 0, from, filled);
  }
  whole = undefined;
  for (;;) {
    if (tail === buffer.length) {
      // No line feed in a whole buffer: the reader joins the line.
      yield buffer;
      if (!reuse) buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      tail = 0;
    }
    const { bytesRead } = await file.read(buffer, tail, buffer.length - tail, null);
    const end = tail + bytesRead;
    if (bytesRead === 0) {
      if (end > 0) yield buffer.subarray(0, end);
      return;
    }
    const cut = buffer.lastIndexOf(10, end - 1) + 1;
    if (cut === 0) {
      tail = end;
      continue;
    }
    yield buffer.subarray(0, cut);
    const next = reuse ? buffer : Buffer.allocUnsafeSlow(CHUNK_BYTES);
    tail = buffer.copy(next, 0, cut, end);
    buffer = next;
  }
}
