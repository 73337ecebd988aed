import { grownInt32 } from "./grow-array.ts";

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
    this.first = grownInt32(this.first, size, -1);
    this.last = grownInt32(this.last, size);
    this.count = grownInt32(this.count, size);
  }
}
