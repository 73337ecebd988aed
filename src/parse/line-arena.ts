/** Where a parser that reads reused chunks keeps its own copy of rule lines (internal to the parser). */
import type { RuleView } from "./rule-view.ts";

/**
 * Chunks of memory that rule lines are copied into, one after the other, each followed by a line
 * feed: small dumps take little, big ones fill chunks of 4 MB.
 */
export class LineArena {
  #arena: Uint8Array | undefined;
  #used = 0;
  #words: DataView = new DataView(new ArrayBuffer(0));

  /**
   * Copies the view's line as written (`rawStart..end`) and returns where it starts in the last of
   * `chunks` (a new arena chunk is pushed there when the current one is full).
   */
  copy(view: RuleView, chunks: Uint8Array[]): number {
    const len = view.end - view.rawStart;
    let arena = this.#arena;
    if (arena === undefined || this.#used + len + 1 > arena.length) {
      const size = Math.max(len + 1, Math.min(4 << 20, (arena?.length ?? 1 << 15) * 2));
      arena = this.#arena = new Uint8Array(size);
      this.#words = new DataView(arena.buffer);
      this.#used = 0;
      chunks.push(arena);
    }
    const at = this.#used;
    // Copied 4 bytes at a time: a subarray per rule (a Buffer, when the chunk is one) costs more
    // than the copy of a 140-byte line.
    const words = this.#words;
    const from = view.words;
    const start = view.rawStart;
    let i = 0;
    for (; i + 4 <= len; i += 4) words.setInt32(at + i, from.getInt32(start + i, true), true);
    for (; i < len; i++) arena[at + i] = from.getUint8(start + i);
    arena[at + len] = 10;
    this.#used = at + len + 1;
    return at;
  }
}
