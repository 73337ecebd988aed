/**
 * A map from 64-bit fingerprints of byte strings to one non-zero 32-bit number, in one `Int32Array`
 * (open addressing, linear probing, at most three-quarters full): 12 bytes per slot and no object per
 * entry, so a million distinct rules cost 24 MB (665,000 cost 12 MB) and no garbage collection.
 *
 * The fingerprint is two 32-bit hashes of the bytes (lanes with MurmurHash3's and xxHash32's
 * constants, 8 bytes per step, each finished by MurmurHash3's finaliser) and a salt (the table of a
 * rule). Two different strings get the same fingerprint with probability about 2^-64 per pair: for n
 * distinct strings, about n²/2^65 (2.7·10⁻⁸ for a million). Users of the table that report a match
 * confirm it on the text where they can (see docs/scan.md).
 *
 * @example
 * ```ts
 * const t = new FingerprintTable();
 * const slot = t.find(new DataView(bytes.buffer), 0, bytes.length, 1);
 * if (t.value(slot) === 0) t.setValue(slot, line); // first time seen
 * ```
 */
export class FingerprintTable {
  /** Per slot: hash lane 1, hash lane 2, value. A slot is used when its value is not 0. */
  #slots: Int32Array;
  #mask: number;
  #size = 0;
  /** How many strings to make room for when the table is full (see {@linkcode FingerprintTable.planGrowth}). */
  #plan: ((size: number) => number) | undefined;

  /**
   * @param expected How many distinct strings to make room for at once (default: a few thousand, and
   *   the table grows): sizing it for the input saves rehashing a large table several times.
   */
  constructor(expected = 8192) {
    const cap = capacityFor(expected);
    this.#slots = new Int32Array(cap * 3);
    this.#mask = cap - 1;
    this.capacity = cap;
  }

  /**
   * Has the table, each time it is full, make room at once for `plan(size)` strings (at least twice
   * as many as it holds). A caller that learns while reading how many strings can still come (the
   * rest of a file) says so then: the table grows once to its final size, instead of doubling several
   * times or being sized too early for strings that never come.
   */
  planGrowth(plan: (size: number) => number): void {
    this.#plan = plan;
  }

  /** Number of distinct fingerprints stored. */
  get size(): number {
    return this.#size;
  }

  /** Bytes held by the table. */
  get byteLength(): number {
    return this.#slots.byteLength;
  }

  /**
   * Number of slots: it changes exactly when the table grows, which moves every slot (a plain field:
   * read per rule, where a getter is not always inlined). Written only by the table.
   */
  capacity = 0;

  /**
   * The slot of the fingerprint of the bytes from `start` to `end` of `view` with `salt`. A new slot
   * has value 0 until the caller sets it (to a non-zero number: that marks the slot as used).
   */
  find(view: DataView, start: number, end: number, salt: number): number {
    const len = end - start;
    let h1 = 0x9e3779b9 ^ salt;
    let h2 = Math.imul(salt + len, 0x85ebca77) ^ 0x27d4eb2f;
    let i = start;
    // Two lanes over 8 bytes per step (MurmurHash3's and xxHash32's constants and rotations).
    for (const stop = end - 7; i < stop; i += 8) {
      const w = view.getInt32(i, true);
      const v = view.getInt32(i + 4, true);
      h1 = Math.imul(h1 ^ w, 0xcc9e2d51);
      h1 = Math.imul(((h1 << 15) | (h1 >>> 17)) ^ v, 0x1b873593);
      h2 = Math.imul((h2 + v) | 0, 0x9e3779b1);
      h2 = Math.imul(((h2 << 13) | (h2 >>> 19)) + w, 0x85ebca77);
    }
    let t = 0x811c9dc5 | 0;
    for (; i < end; i++) t = Math.imul(t ^ view.getUint8(i), 0x01000193);
    return this.#probe(fmix(h1 ^ t ^ len), fmix((h2 + t) | 0));
  }

  #probe(h1: number, h2: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = (h1 ^ h2) & mask; ; i = (i + 1) & mask) {
      const at = i * 3;
      if (slots[at + 2] === 0) {
        if ((this.#size + 1) * 4 > (mask + 1) * 3) {
          this.#grow();
          return this.#probe(h1, h2);
        }
        slots[at] = h1;
        slots[at + 1] = h2;
        this.#size++;
        return at;
      }
      if (slots[at] === h1 && slots[at + 1] === h2) return at;
    }
  }

  /** The value of a slot (0 for a fingerprint seen for the first time). */
  value(slot: number): number {
    return this.#slots[slot + 2]!;
  }

  /** Sets the value of a slot, which must not be 0 (that marks the slot as unused). */
  setValue(slot: number, value: number): void {
    this.#slots[slot + 2] = value;
  }

  #grow(): void {
    // Quadruple while small: fewer rehashes of a table that will hold a million fingerprints.
    const cap = (this.#mask + 1) * (this.#mask < 1 << 19 ? 4 : 2);
    const planned = this.#plan === undefined ? 0 : capacityFor(this.#plan(this.#size + 1));
    this.#rehash(Math.max(cap, planned));
  }

  #rehash(cap: number): void {
    const old = this.#slots;
    const slots = new Int32Array(cap * 3);
    const mask = cap - 1;
    for (let at = 0; at < old.length; at += 3) {
      if (old[at + 2] === 0) continue;
      let i = (old[at]! ^ old[at + 1]!) & mask;
      while (slots[i * 3 + 2] !== 0) i = (i + 1) & mask;
      const to = i * 3;
      slots[to] = old[at]!;
      slots[to + 1] = old[at + 1]!;
      slots[to + 2] = old[at + 2]!;
    }
    this.#slots = slots;
    this.#mask = mask;
    this.capacity = mask + 1;
  }
}

/**
 * Slots for `expected` strings at most three-quarters full (the table grows when it would be fuller):
 * linear probing still finds a slot in a cache line or two, and a table sized for a dump stays half
 * the size more often (a size to plan for is a guess on the high side).
 */
function capacityFor(expected: number): number {
  let cap = 1 << 14;
  while (cap * 3 < expected * 4 && cap < 1 << 24) cap *= 2;
  return cap;
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
