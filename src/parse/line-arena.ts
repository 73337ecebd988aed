/** Where a parser that reads reused chunks keeps its own copy of rule lines (internal to the parser). */
import type { RuleView } from "./rule-view.ts";

/**
 * Chunks of memory that rule lines are copied into, one after the other, each followed by a line
 * feed: small dumps take little, big ones fill chunks of 4 MB.
 *
 * Lines that follow one another in the reader's chunk are copied together, in one native copy, when
 * the next line is not the next one of the chunk, when the arena is full, or at {@linkcode flush}:
 * a dump's rules that are kept come in runs (all of them, but for a leak's copies), and copying a
 * line at a time in JavaScript was most of the copying's cost while the code was not yet compiled.
 * Until then the bytes of the lines placed are not in the arena: whoever reads it calls
 * {@linkcode flush} first, and so does the reader's owner before the chunk's buffer is reused.
 */
export class LineArena {
  #arena: Uint8Array | undefined;
  #used = 0;
  /** Lines placed but not copied yet: `#src[#from..#to)` goes to the arena at `#at`. */
  #src: Uint8Array | undefined;
  #srcChunk = 0;
  #from = 0;
  #to = 0;
  #at = 0;

  /**
   * Places the view's line as written (`rawStart..end`) and returns where it starts in the last of
   * `chunks` (a new arena chunk is pushed there when the current one is full). Its bytes are there
   * after the next {@linkcode flush} (or sooner).
   */
  copy(view: RuleView, chunks: Uint8Array[]): number {
    const bytes = view.bytes;
    const start = view.rawStart;
    const end = view.end;
    const len = end - start;
    let arena = this.#arena;
    if (arena === undefined || this.#used + len + 1 > arena.length) {
      this.flush();
      const size = Math.max(len + 1, Math.min(4 << 20, (arena?.length ?? 1 << 15) * 2));
      arena = this.#arena = new Uint8Array(size);
      this.#used = 0;
      chunks.push(arena);
    }
    const at = this.#used;
    this.#used = at + len + 1;
    if (
      this.#src !== undefined &&
      (bytes !== this.#src || view.chunk !== this.#srcChunk || start !== this.#to)
    ) {
      this.flush();
    }
    if (this.#src === undefined) {
      this.#src = bytes;
      this.#srcChunk = view.chunk;
      this.#from = start;
      this.#at = at;
    }
    if (end < bytes.length && bytes[end] === 10) {
      // The line feed after it is copied with it (a CR before it is not: then `end` is at the CR).
      this.#to = end + 1;
    } else {
      this.#to = end;
      this.flush();
      arena[at + len] = 10;
    }
    return at;
  }

  /** Copies the lines placed since the last flush into the arena. */
  flush(): void {
    const src = this.#src;
    if (src === undefined) return;
    this.#arena!.set(
      new Uint8Array(src.buffer, src.byteOffset + this.#from, this.#to - this.#from),
      this.#at,
    );
    this.#src = undefined;
  }
}
