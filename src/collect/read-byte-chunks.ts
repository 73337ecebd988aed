import { open } from "node:fs/promises";

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
 * decoding here, the reader decodes only the lines it needs as text.
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
    // A parser keeps every chunk: one buffer of the file's size is one allocation instead of one per
    // chunk (each of which would count as external memory and prompt the garbage collector).
    const size = options.reuse === true ? 0 : (await file.stat()).size;
    let whole = size > 0 ? Buffer.allocUnsafeSlow(size) : undefined;
    let filled = 0;
    let buffer = Buffer.allocUnsafeSlow(whole === undefined ? CHUNK_BYTES : 0);
    for (;;) {
      if (whole !== undefined && filled < whole.length) {
        const { bytesRead } = await file.read(
          whole,
          filled,
          Math.min(CHUNK_BYTES, whole.length - filled),
          null,
        );
        if (bytesRead === 0) return;
        yield whole.subarray(filled, filled + bytesRead);
        filled += bytesRead;
        continue;
      }
      // The file grew while read (or has no size, as /proc files): chunk by chunk from here.
      whole = undefined;
      if (buffer.length === 0) buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return;
      yield bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead);
      if (options.reuse !== true) buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    }
  } finally {
    await file.close();
  }
}
