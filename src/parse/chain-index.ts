import { grownInt32 } from "./grow-array.ts";

/**
 * The chains declared in one table while it is read, with each chain's rule count so far, found by
 * the bytes of a rule line without making a string.
 *
 * A kube-proxy node declares hundreds of thousands of chains, and in kube-proxy's own write order
 * (and in hand-made dumps) the rules of different chains interleave, so a rule's chain must be found
 * by its name on most lines. The names are kept as UTF-8 bytes in one arena and found through an
 * open-addressing table of 32-bit hashes (hash and position side by side, so a probe touches one
 * cache line); a hit is confirmed by comparing the bytes, so a lookup is exact. Nothing per lookup
 * is allocated, and a name becomes a string only when someone asks for it.
 *
 * @example
 * ```ts
 * const chains = new ChainIndex();
 * chains.declare("INPUT"); chains.declare("KUBE-A");
 * chains.find("KUBE-A"); // 1
 * ```
 */
export class ChainIndex {
  /** Chain names by declaration position, made on first use (see {@linkcode ChainIndex.name}); sparse. */
  readonly #names: (string | undefined)[] = [];
  /** Rules read so far per chain, by declaration position (see {@linkcode ChainIndex.next}). */
  #counts: Int32Array = new Int32Array(16);
  /** UTF-8 bytes of every name, one after the other. */
  #arena: Uint8Array = new Uint8Array(1024);
  #used = 0;
  /** Number of declared chains (the names array is sparse: most are never asked for). */
  #size = 0;
  /** Per chain: offset of its name in the arena and its length. */
  #spans: Int32Array = new Int32Array(32);
  /** Open addressing, two numbers per slot: the name's hash and the chain's position + 1 (0: empty). */
  #slots: Int32Array = new Int32Array(2048);
  #mask = 1023;
  #scratch: Uint8Array = new Uint8Array(64);
  /** A DataView of the bytes hashed last: names are hashed 4 bytes at a time. */
  #view: DataView = new DataView(new ArrayBuffer(0));
  #viewOf: Uint8Array | undefined;

  /** Number of declared chains. */
  get size(): number {
    return this.#size;
  }

  /** Chain names in declaration order. */
  get names(): string[] {
    return Array.from({ length: this.#size }, (_, i) => this.name(i));
  }

  /** The name of chain `pos`, decoded from its bytes on first use (a scan never needs most of them). */
  name(pos: number): string {
    let name = this.#names[pos];
    if (name === undefined) {
      const off = this.#spans[2 * pos]!;
      name = decoder.decode(this.#arena.subarray(off, off + this.#spans[2 * pos + 1]!));
      this.#names[pos] = name;
    }
    return name;
  }

  /**
   * Position of the first chain from `from` on, in declaration order, whose name starts with one of
   * `prefixes` (ASCII), or -1. Compared on the names' bytes: finding kube-proxy's few chains of a
   * kind among a node's 250,000 decodes no name.
   */
  nextWithPrefix(prefixes: readonly string[], from = 0): number {
    const arena = this.#arena;
    const spans = this.#spans;
    for (let pos = from, n = this.#size; pos < n; pos++) {
      const off = spans[2 * pos]!;
      const len = spans[2 * pos + 1]!;
      for (const p of prefixes) {
        if (p.length > len) continue;
        let i = 0;
        while (i < p.length && arena[off + i] === p.charCodeAt(i)) i++;
        if (i === p.length) return pos;
      }
    }
    return -1;
  }

  /** Declares a chain; false when the name is already declared. */
  declare(name: string): boolean {
    const len = this.#encode(name);
    if (!this.declareBytes(this.#scratch, 0, len)) return false;
    this.#names[this.#size - 1] = name;
    return true;
  }

  /** Declares the chain whose UTF-8 name is `bytes` from `start` to `end`; false when already declared. */
  declareBytes(bytes: Uint8Array, start: number, end: number): boolean {
    const len = end - start;
    const hash = this.#hash(bytes, start, end);
    const slot = this.#lookup(bytes, start, end, hash);
    if (this.#slots[slot + 1] !== 0) return false;
    const pos = this.#size;
    if (2 * pos + 2 > this.#spans.length) this.#spans = grownInt32(this.#spans);
    if (pos + 1 > this.#counts.length) this.#counts = grownInt32(this.#counts);
    if (this.#used + len > this.#arena.length) {
      const arena = new Uint8Array(Math.max(this.#arena.length * 2, this.#used + len));
      arena.set(this.#arena.subarray(0, this.#used));
      this.#arena = arena;
    }
    const arena = this.#arena;
    const at = this.#used;
    for (let i = 0; i < len; i++) arena[at + i] = bytes[start + i]!;
    this.#spans[2 * pos] = at;
    this.#spans[2 * pos + 1] = len;
    this.#used = at + len;
    this.#size = pos + 1;
    this.#slots[slot] = hash;
    this.#slots[slot + 1] = pos + 1;
    if ((pos + 1) * 2 > this.#mask) this.#rehash();
    return true;
  }

  /** Position of a declared chain, or -1. */
  find(name: string): number {
    const len = this.#encode(name);
    return this.findBytes(this.#scratch, 0, len);
  }

  /** Position of the chain whose UTF-8 name is `bytes` from `start` to `end`, or -1. */
  findBytes(bytes: Uint8Array, start: number, end: number): number {
    const slot = this.#lookup(bytes, start, end, this.#hash(bytes, start, end));
    return this.#slots[slot + 1]! - 1;
  }

  /**
   * Whether the bytes at `start` are the name of chain `pos` followed by a space or by `end`: the
   * check of `-A NAME ...` against the previous rule's chain, without finding the name's end first.
   */
  isAt(pos: number, bytes: Uint8Array, start: number, end: number): boolean {
    const len = this.#spans[2 * pos + 1]!;
    const stop = start + len;
    if (stop > end || (stop < end && bytes[stop] !== 32)) return false;
    const arena = this.#arena;
    const off = this.#spans[2 * pos]! - start;
    for (let i = stop - 1; i >= start; i--) if (bytes[i] !== arena[i + off]) return false;
    return true;
  }

  /** The index of the next rule of chain `pos` (0 for its first), counting it. */
  next(pos: number): number {
    return this.#counts[pos]!++;
  }

  /** Counts `n` more rules of chain `pos` (the copies of a repeated block). */
  addRules(pos: number, n: number): void {
    this.#counts[pos]! += n;
  }

  /** Rules counted so far in chain `pos`. */
  count(pos: number): number {
    return this.#counts[pos]!;
  }

  /** The slot holding the name, or the empty slot where it would go. */
  #lookup(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    const len = end - start;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = i << 1;
      const p = slots[slot + 1]! - 1;
      if (p < 0) return slot;
      if (slots[slot] === hash && this.#spans[2 * p + 1] === len && this.#equal(p, bytes, start, len)) {
        return slot;
      }
    }
  }

  #equal(pos: number, bytes: Uint8Array, start: number, len: number): boolean {
    const arena = this.#arena;
    const off = this.#spans[2 * pos]! - start;
    // Backwards: kube-proxy's names share their prefix and differ in their hash suffix.
    for (let i = start + len - 1; i >= start; i--) if (bytes[i] !== arena[i + off]) return false;
    return true;
  }

  #rehash(): void {
    const old = this.#slots;
    // Quadrupled while small, then doubled: a node's 250,000 chains fill a 4 MB table to half, where
    // quadrupling would leave an 8 MB one a quarter full (fresh pages cost more than a rehash).
    const cap = (this.#mask + 1) * (this.#mask < 1 << 16 ? 4 : 2);
    const slots = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let s = 0; s < old.length; s += 2) {
      if (old[s + 1] === 0) continue;
      let i = old[s]! & mask;
      while (slots[(i << 1) + 1] !== 0) i = (i + 1) & mask;
      slots[i << 1] = old[s]!;
      slots[(i << 1) + 1] = old[s + 1]!;
    }
    this.#slots = slots;
    this.#mask = mask;
  }

  /** A 32-bit hash of the name, 4 bytes at a time (MurmurHash3's mixing). */
  #hash(bytes: Uint8Array, start: number, end: number): number {
    let view = this.#view;
    if (bytes !== this.#viewOf) {
      view = this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.#viewOf = bytes;
    }
    let h = Math.imul(end - start, 0x9e3779b1);
    let i = start;
    for (const stop = end - 3; i < stop; i += 4) {
      h = Math.imul(h ^ view.getInt32(i, true), 0xcc9e2d51);
      h = Math.imul((h << 15) | (h >>> 17), 0x1b873593);
    }
    for (; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    return h ^ (h >>> 13);
  }

  /** Writes the UTF-8 bytes of `name` into the scratch buffer and returns their length. */
  #encode(name: string): number {
    if (this.#scratch.length < name.length * 3) {
      this.#scratch = new Uint8Array(name.length * 3);
      this.#viewOf = undefined;
    }
    const bytes = this.#scratch;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c >= 128) return new TextEncoder().encodeInto(name, bytes).written;
      bytes[i] = c;
    }
    return name.length;
  }
}

const decoder = new TextDecoder();
