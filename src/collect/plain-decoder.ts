/**
 * The decoding half of the compact form of plain data (plain-encoder.ts): builds the objects on
 * the main thread from a list worker's tokens (read-lists.ts, issue 14), in one pass, exactly as
 * the converters had built them in the worker: same keys in the same order, each object with room
 * for all its keys and each array exactly as long (so the copy takes no more memory than the
 * original: the same 54 MB for 83,705 EndpointSlices), frozen where the original was frozen, and
 * one object wherever the original shared one.
 */
import { type EncodedPlain, TAGS } from "./plain-encoder.ts";

const { STR, INT, NUM, FALSE, TRUE, UNDEF, NULL, OBJ, FROZEN_OBJ, ARR, FROZEN_ARR, REF, BITS, MASK } = TAGS;

/**
 * An array of `length` slots to fill. A short one is a literal (packed, like the arrays JSON.parse
 * and the converters make, and exactly as long); pushing would leave room for 16 more.
 */
function exactArray(length: number): unknown[] {
  switch (length) {
    case 0:
      return [];
    case 1:
      return [undefined];
    case 2:
      return [undefined, undefined];
    case 3:
      return [undefined, undefined, undefined];
    default:
      return new Array<unknown>(length);
  }
}

class Decoder {
  at = 0;
  readonly #tokens: Int32Array;
  readonly #numbers: Float64Array;
  readonly #strings: string[];
  readonly #shapes: readonly (readonly string[])[];
  readonly #frozen: object[] = [];
  readonly #templates: (object | undefined)[] = [];

  constructor(e: EncodedPlain) {
    this.#tokens = e.tokens;
    this.#numbers = e.numbers;
    this.#shapes = e.shapes;
    this.#strings = new Array<string>(e.lengths.length);
    let from = 0;
    for (let i = 0; i < e.lengths.length; i++) {
      const to = from + e.lengths[i]!;
      this.#strings[i] = e.text.slice(from, to);
      from = to;
    }
  }

  value(): unknown {
    const t = this.#tokens[this.at++]!;
    const x = t >>> BITS;
    switch (t & MASK) {
      case STR:
        return this.#strings[x];
      case INT:
        return x;
      case NUM:
        return this.#numbers[x];
      case FALSE:
        return false;
      case TRUE:
        return true;
      case UNDEF:
        return undefined;
      case NULL:
        return null;
      case OBJ:
      case FROZEN_OBJ:
        return this.#object(x, (t & MASK) === FROZEN_OBJ);
      case ARR:
      case FROZEN_ARR:
        return this.#array(x, (t & MASK) === FROZEN_ARR);
      case REF:
        return this.#frozen[x];
      default:
        throw new RangeError(`Cannot decode token ${t} at ${this.at - 1}`);
    }
  }

  #object(shape: number, frozen: boolean): object {
    const keys = this.#shapes[shape]!;
    const o = this.#empty(shape, keys);
    // A frozen object is numbered before its fields, as the encoder numbered it.
    if (frozen) this.#frozen.push(o);
    for (const k of keys) {
      if (k !== "__proto__") o[k] = this.value();
      // JSON.parse makes "__proto__" an own key; an assignment to {} would set the prototype.
      else
        Object.defineProperty(o, k, {
          value: this.value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return frozen ? Object.freeze(o) : o;
  }

  /**
   * An object to fill with the shape's keys. `{}` has room for four in the object itself; a larger
   * shape's object is copied from one of its keys, all null, so all its keys fit in the object
   * too, as in the converters' objects, where adding them to {} would spill them into an array.
   */
  #empty(shape: number, keys: readonly string[]): Record<string, unknown> {
    if (keys.length <= 4) return {};
    let template = this.#templates[shape];
    if (template === undefined) {
      template = {};
      for (const k of keys)
        Object.defineProperty(template, k, {
          value: null,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      this.#templates[shape] = template;
    }
    return { ...template };
  }

  #array(length: number, frozen: boolean): readonly unknown[] {
    const a = exactArray(length);
    if (frozen) this.#frozen.push(a);
    for (let i = 0; i < length; i++) a[i] = this.value();
    return frozen ? Object.freeze(a) : a;
  }
}

/**
 * The value `encodePlain` (or a {@linkcode PlainEncoder}) encoded: equal, with the same key order, the same frozen
 * objects and the same sharing of frozen objects.
 *
 * @throws {RangeError} When `encoded` is not one whole encoded value.
 */
export function decodePlain(encoded: EncodedPlain): unknown {
  const d = new Decoder(encoded);
  const value = d.value();
  if (d.at !== encoded.tokens.length)
    throw new RangeError(`Cannot decode: ${encoded.tokens.length - d.at} tokens left over`);
  return value;
}
