/**
 * The chains declared in one table while it is read, with each chain's rule count so far.
 *
 * A kube-proxy node declares hundreds of thousands of chains, and hashing every name into a Map
 * costs more than the rest of reading them. iptables-save prints built-in chains first and user
 * chains sorted by name (strcmp), so while the names keep coming in increasing order none can repeat
 * and a name is found by binary search, with no hashing at all. Only when the order breaks (older
 * iptables-nft printed kernel order; hand-made dumps) is a Map built, once, and used from then on.
 *
 * @example
 * ```ts
 * const chains = new ChainIndex();
 * chains.declare("INPUT", true); chains.declare("KUBE-A", false);
 * chains.find("KUBE-A"); // 1
 * ```
 */
export class ChainIndex {
  /** Chain names in declaration order. */
  readonly names: string[] = [];
  /** Rules read so far per chain, by declaration position. */
  readonly counts: number[] = [];
  /** Position of the first user chain, or -1. */
  #firstUser = -1;
  /** Built-ins all come before user chains, and user chains are strictly increasing. */
  #ordered = true;
  #map: Map<string, number> | undefined;

  /** Declares a chain; false when the name is already declared. */
  declare(name: string, builtin: boolean): boolean {
    const names = this.names;
    if (this.#ordered) {
      if (builtin) {
        if (this.#firstUser >= 0) this.#unorder();
        else if (names.includes(name)) return false;
      } else if (this.#firstUser < 0) {
        this.#firstUser = names.length;
      } else if (!(name > names[names.length - 1]!)) {
        this.#unorder();
      }
    }
    if (this.#map !== undefined) {
      if (this.#map.has(name)) return false;
      this.#map.set(name, names.length);
    }
    names.push(name);
    this.counts.push(0);
    return true;
  }

  /** Position of a declared chain, or -1. */
  find(name: string): number {
    if (this.#map !== undefined) return this.#map.get(name) ?? -1;
    const names = this.names;
    const end = this.#firstUser < 0 ? names.length : this.#firstUser;
    for (let k = 0; k < end; k++) if (names[k] === name) return k;
    if (this.#firstUser < 0) return -1;
    let lo = this.#firstUser;
    let hi = names.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = names[mid]!;
      if (v === name) return mid;
      if (v < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #unorder(): void {
    this.#ordered = false;
    this.#map = new Map(this.names.map((n, i) => [n, i]));
  }
}
