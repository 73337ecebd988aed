import { type FileHandle, open } from "node:fs/promises";

/**
 * Bytes read per chunk: large enough that per-chunk overhead vanishes, small enough to stay in cache
 * (a scan holds two: one read while the other is parsed).
 */
export const CHUNK_BYTES = 2 << 20;

/** Options of {@linkcode readByteChunks}. */
export interface ReadByteChunksOptions {
  /**
   * Read the chunks into two buffers that take turns (default false): a chunk's bytes are read over
   * once the next chunk is asked for. Only for a consumer that keeps nothing of a chunk once it asks
   * for the next one (a scan); a parser whose rules point into the dump needs fresh chunks.
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
 * A read of `buffer` from `offset` to `end`, left in flight while the caller parses the chunk
 * before: the thread pool copies the next bytes while JavaScript works on the last ones. Its failure
 * is marked handled at once (it is awaited later, or in `finally` after a consumer stopped early), so
 * that a read that fails while nobody awaits it is not an unhandled rejection.
 */
function readAhead(file: FileHandle, buffer: Buffer, offset: number, end = buffer.length): Promise<number> {
  const read = file.read(buffer, offset, end - offset, null).then((r) => r.bytesRead);
  read.catch(() => {});
  return read;
}

/**
 * The chunks of an open file, each cut after its last line feed; the rest of the line starts the
 * next chunk. Each read is issued before the chunk before it is yielded, into bytes the consumer no
 * longer holds. A parser keeps every chunk: then one buffer of the file's size is one allocation
 * instead of one per chunk (each of which would count as external memory and prompt the garbage
 * collector), and the chunks are its consecutive parts, the next one read while the last is parsed.
 */
async function* lineChunks(file: FileHandle, reuse: boolean): AsyncGenerator<Uint8Array> {
  const size = reuse ? 0 : (await file.stat()).size;
  const whole = size > 0 ? Buffer.allocUnsafeSlow(size) : undefined;
  let from = 0;
  let filled = 0;
  let pending = whole === undefined ? undefined : readAhead(file, whole, 0, Math.min(CHUNK_BYTES, size));
  try {
    while (whole !== undefined && pending !== undefined) {
      const bytesRead = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled < whole.length) {
        pending = readAhead(file, whole, filled, Math.min(filled + CHUNK_BYTES, size));
      }
      const cut = filled === whole.length ? filled : whole.lastIndexOf(10, filled - 1) + 1;
      if (cut > from) {
        yield whole.subarray(from, cut);
        from = cut;
      }
    }
  } finally {
    await pending?.catch(() => {});
  }
  // The file ended early, grew while read, or has no size (as /proc files): buffer by buffer from here.
  const first = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  if (whole === undefined || from === filled) return yield* restChunks(file, first, 0, reuse);
  // What is left holds no line feed: copied to the front of the next buffer, or yielded when that is full.
  if (filled - from < CHUNK_BYTES)
    return yield* restChunks(file, first, whole.copy(first, 0, from, filled), reuse);
  yield whole.subarray(from, filled);
  yield* restChunks(file, first, 0, reuse);
}

/**
 * The chunks of an open file read into buffers of {@linkcode CHUNK_BYTES}, from `first` whose first
 * `tail` bytes are already read (the front of a line). A scan keeps nothing: then two buffers take
 * turns, one read while the other is parsed; the cut line is copied to the front of the other one as
 * soon as a read ends, and the next read fills it after that line.
 */
async function* restChunks(
  file: FileHandle,
  first: Buffer,
  tail: number,
  reuse: boolean,
): AsyncGenerator<Uint8Array> {
  let buffer = first;
  let spare: Buffer | undefined;
  let pending: Promise<number> | undefined = readAhead(file, buffer, tail);
  try {
    for (;;) {
      const bytesRead = await pending;
      pending = undefined;
      const end = tail + bytesRead;
      if (bytesRead === 0) {
        if (end > 0) yield buffer.subarray(0, end);
        return;
      }
      let cut = buffer.lastIndexOf(10, end - 1) + 1;
      if (cut === 0 && end < buffer.length) {
        // No line feed yet (a short read, as from /proc): read on into the same buffer.
        tail = end;
        pending = readAhead(file, buffer, tail);
        continue;
      }
      // No line feed in a whole buffer: yielded as is, the reader joins the line.
      if (cut === 0) cut = end;
      const next = reuse
        ? (spare ?? Buffer.allocUnsafeSlow(CHUNK_BYTES))
        : Buffer.allocUnsafeSlow(CHUNK_BYTES);
      tail = buffer.copy(next, 0, cut, end);
      pending = readAhead(file, next, tail);
      yield buffer.subarray(0, cut);
      spare = buffer;
      buffer = next;
    }
  } finally {
    await pending?.catch(() => {});
  }
}
