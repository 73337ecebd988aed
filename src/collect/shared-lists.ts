/**
 * One frozen copy of each list of small objects seen before, by content: most EndpointSlices of a
 * cluster list the same one or two ports, most Services the same port spec, and JSON.parse gives
 * every object its own copies (an array, its backing store and an object per port: 112 bytes).
 */

/** Lists remembered at most: a cluster has a few hundred distinct port lists, not thousands. */
const MAX_LISTS = 4096;

/** Shares equal lists; `keyOf` must tell apart any two items that differ (absent fields included). */
export class SharedLists<T extends object> {
  readonly #known = new Map<string, readonly T[]>();
  readonly #keyOf: (item: T) => string;

  constructor(keyOf: (item: T) => string) {
    this.#keyOf = keyOf;
  }

  /** The list seen before with the same items, or `list` frozen (items too) and remembered. */
  of(list: T[]): readonly T[] {
    let key = "";
    for (const item of list) key += `${this.#keyOf(item)}\u0001`;
    const known = this.#known.get(key);
    if (known !== undefined) return known;
    if (this.#known.size >= MAX_LISTS) this.#known.clear();
    for (const item of list) Object.freeze(item);
    const frozen = Object.freeze(list);
    this.#known.set(key, frozen);
    return frozen;
  }
}

/** A field in a key: absent is not the empty string. */
export function keyPart(v: string | number | undefined): string {
  return v === undefined ? "\u0002" : String(v);
}
