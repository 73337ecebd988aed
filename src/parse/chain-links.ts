/**
 * Per chain of one table, by declaration position: its first and last entry in the rule store and its
 * number of rules (internal to the parser; see rule-store.ts).
 */
export class ChainLinks {
  first: Int32Array = new Int32Array(64).fill(-1);
  last: Int32Array = new Int32Array(64);
  count: Int32Array = new Int32Array(64);

  /** Makes room for chain `id`. */
  reserve(id: number): void {
    if (id < this.first.length) return;
    const size = Math.max(this.first.length * 2, id + 1);
    const grow = (a: Int32Array, fill: number): Int32Array => {
      const b = new Int32Array(size).fill(fill);
      b.set(a);
      return b;
    };
    this.first = grow(this.first, -1);
    this.last = grow(this.last, 0);
    this.count = grow(this.count, 0);
  }
}
