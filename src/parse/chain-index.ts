/**
 * The chains declared in one table while it is read, with each chain's rule count so far, found by
 * the bytes of a rule line without making a string.
 *
 * A kube-proxy node declares hundreds of thousands of chains, and in kube-proxy's own write order
 * (and in hand-made dumps) the rules of different chains interleave, so a rule's chain must be found
 * by its name on most lines. The names are kept as UTF-8 bytes in one arena and found through an
 * open-addressing table of 32-bit hashes; a hit is confirmed by comparing the bytes, so a lookup is
 * exact. Nothing per lookup is allocated.
 *
 * @example
 * ```ts
 * const chains = new ChainIndex();
 * chains.declare("INPUT"); chains.declare("KUBE-A");
 * chains.find("KUBE-A"); // 1
 * ```
 */
export class ChainIndex {
  /** Chain names in declaration order, made on first use (see {@linkcode ChainIndex.name}). */
  readonly #names: (string | undefined)[] = [];
  /** Rules read so far per chain, by declaration position (see {@linkcode ChainIndex.next}). */
  #counts: Int32Array = new Int32Array(16);
  /** UTF-8 bytes of every name, one after the other. */
  #arena: Uint8Array = new Uint8Array(256);
  #used = 0;
  /** Per chain: offset of its name in the arena, its length and its hash. */
  #offsets: Int32Array = new Int32Array(16);
  #lengths: Int32Array = new Int32Array(16);
  #hashes: Int32Array = new Int32Array(16);
  /** Open addressing: position + 1 of the chain in each slot, 0 for empty. */
  #slots: Int32Array = new Int32Array(1024);
  #scratch: Uint8Array = new Uint8Array(64);

  /** Number of declared chains. */
  get size(): number {
    return this.#names.length;
  }

  /** Chain names in declaration order. */
  get names(): string[] {
    return this.#names.map((_, i) => this.name(i));
  }

  /** The name of chain `pos`, decoded from its bytes on first use (a scan never needs most of them). */
  name(pos: number): string {
    let name = this.#names[pos];
    if (name === undefined) {
      const off = this.#offsets[pos]!;
      name = decoder.decode(this.#arena.subarray(off, off + this.#lengths[pos]!));
      this.#names[pos] = name;
    }
    return name;
  }

  /** Declares a chain; false when the name is already declared. */
  declare(name: string): boolean {
    const len = this.#encode(name);
    if (!this.declareBytes(this.#scratch, 0, len)) return false;
    this.#names[this.#names.length - 1] = name;
    return true;
  }

  /** Declares the chain whose UTF-8 name is `bytes` from `start` to `end`; false when already declared. */
  declareBytes(bytes: Uint8Array, start: number, end: number): boolean {
    const len = end - start;
    const hash = hashBytes(bytes, start, end);
    if (this.#lookup(bytes, start, end, hash) >= 0) return false;
    const pos = this.#names.length;
    if (pos === this.#offsets.length) this.#growChains();
    if (this.#used + len > this.#arena.length) {
      const arena = new Uint8Array(Math.max(this.#arena.length * 2, this.#used + len));
      arena.set(this.#arena.subarray(0, this.#used));
      this.#arena = arena;
    }
    const arena = this.#arena;
    for (let i = 0, at = this.#used; i < len; i++) arena[at + i] = bytes[start + i]!;
    this.#offsets[pos] = this.#used;
    this.#lengths[pos] = len;
    this.#hashes[pos] = hash;
    this.#used += len;
    this.#names.push(undefined);
    if ((pos + 1) * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#insert(pos);
    return true;
  }

  /** Position of a declared chain, or -1. */
  find(name: string): number {
    const len = this.#encode(name);
    return this.#lookup(this.#scratch, 0, len, hashBytes(this.#scratch, 0, len));
  }

  /** Position of the chain whose UTF-8 name is `bytes` from `start` to `end`, or -1. */
  findBytes(bytes: Uint8Array, start: number, end: number): number {
    return this.#lookup(bytes, start, end, hashBytes(bytes, start, end));
  }

  /**
   * Whether the bytes at `start` are the name of chain `pos` followed by a space or by `end`: the
   * check of `-A NAME ...` against the previous rule's chain, without finding the name's end first.
   */
  isAt(pos: number, bytes: Uint8Array, start: number, end: number): boolean {
    const len = this.#lengths[pos]!;
    const stop = start + len;
    if (stop > end || (stop < end && bytes[stop] !== 32)) return false;
    const arena = this.#arena;
    const off = this.#offsets[pos]! - start;
    for (let i = start; i < stop; i++) if (bytes[i] !== arena[i + off]) return false;
    return true;
  }

  /** The index of the next rule of chain `pos` (0 for its first), counting it. */
  next(pos: number): number {
    return this.#counts[pos]!++;
  }

  /** Rules counted so far in chain `pos`. */
  count(pos: number): number {
    return this.#counts[pos]!;
  }

  #lookup(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const len = end - start;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const p = slots[i]! - 1;
      if (p < 0) return -1;
      if (this.#hashes[p] === hash && this.#lengths[p] === len && this.#equal(p, bytes, start)) return p;
    }
  }

  #equal(pos: number, bytes: Uint8Array, start: number): boolean {
    const arena = this.#arena;
    const off = this.#offsets[pos]!;
    const len = this.#lengths[pos]!;
    for (let i = 0; i < len; i++) if (arena[off + i] !== bytes[start + i]) return false;
    return true;
  }

  #insert(pos: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = this.#hashes[pos]! & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = pos + 1;
  }

  #rehash(size: number): void {
    this.#slots = new Int32Array(size);
    for (let p = 0; p < this.#names.length; p++) this.#insert(p);
  }

  #growChains(): void {
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.#counts = grow(this.#counts);
    this.#offsets = grow(this.#offsets);
    this.#lengths = grow(this.#lengths);
    this.#hashes = grow(this.#hashes);
  }

  /** Writes the UTF-8 bytes of `name` into the scratch buffer and returns their length. */
  #encode(name: string): number {
    if (this.#scratch.length < name.length * 3) this.#scratch = new Uint8Array(name.length * 3);
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

/** FNV-1a over bytes: chain names are short, and the table confirms every hit byte by byte. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h ^ (h >>> 15);
}
