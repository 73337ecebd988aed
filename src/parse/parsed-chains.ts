import type { Chain } from "../model/ruleset.ts";
import type { ChainIndex } from "./chain-index.ts";

/**
 * The chains of one parsed table by name, as a read-only Map over the reader's {@linkcode ChainIndex}
 * (names kept as bytes, found by hash) and the chains in declaration order: a node's hundreds of
 * thousands of chain names are not turned into strings and hashed into a second table, and a name
 * becomes a string only when someone asks for it (iterating keys or entries asks for all of them).
 */
export class ParsedChains implements ReadonlyMap<string, Chain> {
  readonly #chains: Chain[] = [];
  #index: ChainIndex | undefined;

  /** Adds the next declared chain (its position in `index` is its position here). */
  add(chain: Chain, index: ChainIndex): void {
    this.#index = index;
    this.#chains.push(chain);
  }

  get size(): number {
    return this.#chains.length;
  }

  get(name: string): Chain | undefined {
    const pos = this.#index?.find(name) ?? -1;
    return pos < 0 ? undefined : this.#chains[pos];
  }

  has(name: string): boolean {
    return (this.#index?.find(name) ?? -1) >= 0;
  }

  /** The chains whose names start with one of `prefixes` (ASCII), in declaration order, found on the names' bytes. */
  *withPrefix(prefixes: readonly string[]): Generator<Chain> {
    const index = this.#index;
    if (index === undefined) return;
    for (let pos = index.nextWithPrefix(prefixes); pos >= 0; pos = index.nextWithPrefix(prefixes, pos + 1))
      yield this.#chains[pos]!;
  }

  values(): MapIterator<Chain> {
    return this.#chains.values();
  }

  keys(): MapIterator<string> {
    return this.#chains.map((c) => c.name).values();
  }

  entries(): MapIterator<[string, Chain]> {
    return this.#chains.map((c): [string, Chain] => [c.name, c]).values();
  }

  [Symbol.iterator](): MapIterator<[string, Chain]> {
    return this.entries();
  }

  forEach(
    callback: (value: Chain, key: string, map: ReadonlyMap<string, Chain>) => void,
    thisArg?: unknown,
  ): void {
    for (const c of this.#chains) callback.call(thisArg, c, c.name, this);
  }
}
