/**
 * A compact form of plain data (objects, arrays, strings, numbers, booleans, null, undefined) for
 * handing the API lists read in a worker back to the main thread (read-lists.ts, issue 14). The
 * structured clone `postMessage` does would cost the main thread more than reading the lists
 * itself: deserialising 83,705 Services and their EndpointSlices (1.2 million small objects) took
 * 1.1-1.9 s, against ~2 s to read them. This form is one token array (transferred, not copied), a
 * table of strings and one of numbers; plain-decoder.ts builds the objects from it in one pass.
 *
 * What the converters share stays shared: a frozen object or array is sent once and referred to
 * after (shared-lists.ts, the endpoint conditions). Short strings are sent once each, as JSON.parse
 * shares them; a long one once per run under the same key (a file name, an apiVersion, a label
 * value the converters share).
 */

/** The compact form; its typed arrays can be transferred. */
export interface EncodedPlain {
  readonly tokens: Int32Array;
  readonly numbers: Float64Array;
  /** The strings, concatenated; `lengths` cuts them apart again. */
  readonly text: string;
  readonly lengths: Int32Array;
  /** The key lists of the objects, in order of first use. */
  readonly shapes: readonly (readonly string[])[];
}

/** A token is `payload << BITS | tag`; the payload is an index, a length or a small integer. */
export const TAGS = {
  STR: 0,
  INT: 1,
  NUM: 2,
  FALSE: 3,
  TRUE: 4,
  UNDEF: 5,
  NULL: 6,
  OBJ: 7,
  FROZEN_OBJ: 8,
  ARR: 9,
  FROZEN_ARR: 10,
  REF: 11,
  BITS: 4,
  MASK: 15,
} as const;
const { STR, INT, NUM, FALSE, TRUE, UNDEF, NULL, OBJ, FROZEN_OBJ, ARR, FROZEN_ARR, REF, BITS } = TAGS;

/** Payloads stay below this, so a token fits an Int32Array slot. */
const PAYLOAD_LIMIT = 2 ** (31 - BITS);
/** Strings up to this long are looked up in a cache and sent once if found (V8's JSON.parse shares values up to 10 characters). */
const SHARED_STRING_MAX = 10;
/** Slots of the short-string cache, less one. */
const CACHE_MASK = 4095;

/** A node of the key-list trie: an object's key list is found without joining its keys into one string. */
interface ShapeNode {
  id: number;
  readonly next: Map<string, ShapeNode>;
}

/** Where to go back to: what was written after it is forgotten. */
export interface EncoderMark {
  readonly tokens: number;
  readonly frozen: number;
}

/**
 * Writes plain data in the compact form, one value at a time: an array can be opened, streamed
 * into and closed with its length, and what was written since a mark can be dropped (a list file
 * that turned out not to be in kubectl's layout is read again whole).
 */
export class PlainEncoder {
  #tokens = new Int32Array(1 << 16);
  #length = 0;
  readonly #numbers: number[] = [];
  readonly #cached: (string | undefined)[] = new Array(CACHE_MASK + 1).fill(undefined);
  readonly #cachedIds = new Int32Array(CACHE_MASK + 1);
  readonly #strings: string[] = [];
  readonly #shapes: string[][] = [];
  readonly #shapeRoot: ShapeNode = { id: -1, next: new Map() };
  readonly #frozen = new Map<object, number>();
  readonly #frozenOrder: object[] = [];
  /** Per shape and key: the last string sent there and its number. */
  readonly #lastStrings: { strings: (string | undefined)[]; ids: number[] }[] = [];

  #push(payload: number, tag: number): void {
    if (payload >= PAYLOAD_LIMIT) throw new RangeError(`Cannot encode: ${payload} is too many entries`);
    if (this.#length === this.#tokens.length) {
      const grown = new Int32Array(this.#tokens.length * 2);
      grown.set(this.#tokens);
      this.#tokens = grown;
    }
    this.#tokens[this.#length++] = (payload << BITS) | tag;
  }

  /**
   * Writes one value.
   *
   * @throws {TypeError} For what is not plain data (a Map, a class instance, a function): it would not come back the same.
   */
  value(v: unknown): void {
    if (typeof v === "string") this.#push(this.#string(v), STR);
    else if (typeof v === "number") this.#number(v);
    else if (typeof v === "boolean") this.#push(0, v ? TRUE : FALSE);
    else if (v === undefined) this.#push(0, UNDEF);
    else if (v === null) this.#push(0, NULL);
    else if (typeof v === "object") this.#object(v);
    else throw new TypeError(`Cannot encode a ${typeof v}: only plain data is sent back from a worker`);
  }

  /** Opens an array whose items are written next; {@linkcode closeArray} tells its length. */
  openArray(): number {
    this.#push(0, ARR);
    return this.#length - 1;
  }

  closeArray(at: number, length: number): void {
    if (length >= PAYLOAD_LIMIT) throw new RangeError(`Cannot encode: ${length} is too many entries`);
    this.#tokens[at] = (length << BITS) | ARR;
  }

  /** Opens an object of these keys; their values are written next, in this order. */
  openObject(keys: string[]): void {
    this.#push(this.#shape(keys), OBJ);
  }

  mark(): EncoderMark {
    return { tokens: this.#length, frozen: this.#frozenOrder.length };
  }

  /** Forgets what was written since `mark` (strings, shapes and numbers stay: they are only looked up). */
  rollback(mark: EncoderMark): void {
    this.#length = mark.tokens;
    for (const o of this.#frozenOrder.splice(mark.frozen)) this.#frozen.delete(o);
  }

  /** The encoded value (the tokens are a view of the encoder's buffer: transfer it, do not write on). */
  finish(): EncodedPlain {
    const lengths = new Int32Array(this.#strings.length);
    for (let i = 0; i < lengths.length; i++) lengths[i] = this.#strings[i]!.length;
    return {
      tokens: this.#tokens.subarray(0, this.#length),
      numbers: Float64Array.from(this.#numbers),
      text: this.#strings.join(""),
      lengths,
      shapes: this.#shapes,
    };
  }

  #number(v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < PAYLOAD_LIMIT && !Object.is(v, -0)) this.#push(v, INT);
    else this.#push(this.#numbers.push(v) - 1, NUM);
  }

  #string(s: string): number {
    const n = s.length;
    if (n > SHARED_STRING_MAX || n === 0) return this.#strings.push(s) - 1;
    // A direct-mapped cache, not a Map: most short strings repeat (namespaces, protocols, node
    // names), and the unique ones (addresses) need not fill a table.
    const slot =
      (n * 31 + s.charCodeAt(0) * 7 + s.charCodeAt(n >> 1) * 131 + s.charCodeAt(n - 1) * 1031) & CACHE_MASK;
    if (this.#cached[slot] === s) return this.#cachedIds[slot]!;
    const i = this.#strings.push(s) - 1;
    this.#cached[slot] = s;
    this.#cachedIds[slot] = i;
    return i;
  }

  #object(o: object): void {
    const frozen = Object.isFrozen(o);
    if (frozen) {
      const seen = this.#frozen.get(o);
      if (seen !== undefined) {
        this.#push(seen, REF);
        return;
      }
      this.#frozen.set(o, this.#frozenOrder.push(o) - 1);
    }
    if (Array.isArray(o)) {
      this.#push(o.length, frozen ? FROZEN_ARR : ARR);
      for (let i = 0; i < o.length; i++) this.value(o[i]);
      return;
    }
    if (Object.getPrototypeOf(o) !== Object.prototype)
      throw new TypeError(
        `Cannot encode a ${o.constructor?.name ?? "null-prototype"} object: not plain data`,
      );
    const keys = Object.keys(o);
    const shape = this.#shape(keys);
    this.#push(shape, frozen ? FROZEN_OBJ : OBJ);
    const last = (this.#lastStrings[shape] ??= { strings: [], ids: [] });
    for (let j = 0; j < keys.length; j++) {
      const v = (o as Record<string, unknown>)[keys[j]!];
      if (typeof v !== "string") this.value(v);
      else if (last.strings[j] === v) this.#push(last.ids[j]!, STR);
      else {
        last.strings[j] = v;
        this.#push((last.ids[j] = this.#string(v)), STR);
      }
    }
  }

  #shape(keys: string[]): number {
    let node = this.#shapeRoot;
    for (const k of keys) {
      let next = node.next.get(k);
      if (next === undefined) node.next.set(k, (next = { id: -1, next: new Map() }));
      node = next;
    }
    if (node.id === -1) node.id = this.#shapes.push(keys) - 1;
    return node.id;
  }
}

/** `value` in the compact form (plain data only: see {@linkcode PlainEncoder.value}). */
export function encodePlain(value: unknown): EncodedPlain {
  const e = new PlainEncoder();
  e.value(value);
  return e.finish();
}

/** The buffers of `encoded` to transfer rather than copy. */
export function transferablesOf(encoded: EncodedPlain): ArrayBuffer[] {
  return [encoded.tokens.buffer, encoded.numbers.buffer, encoded.lengths.buffer] as ArrayBuffer[];
}
