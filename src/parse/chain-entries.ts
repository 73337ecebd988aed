/**
 * How a chain's entries in the {@linkcode RuleStore} become its rules (internal to the store): an
 * entry is one rule, or all the copies of a leak's rule in a repeated block (their number and the
 * distance between their lines).
 */

/** The store's arrays per entry that a chain's walk reads. */
export interface EntryArrays {
  /** The next entry of the same chain, or -1. */
  readonly next: Int32Array;
  /** The line of the entry's (first) rule. */
  readonly lines: Int32Array;
  /** How many rules the entry stands for (0: one), and the distance between their lines. */
  readonly times: Int32Array | undefined;
  readonly stride: Int32Array | undefined;
}

/** A chain walked once: the entry and the line of a rule by its position, and all the lines. */
export interface ChainEntries {
  entryOf(index: number): number;
  lineAt(index: number): number;
  /** Every rule's line, in order (made on first call: a leak's copies may be a million). */
  lines(): Int32Array;
}

/** How many rules entry `id` stands for. */
export function rulesOf(times: Int32Array | undefined, id: number): number {
  return times === undefined ? 1 : Math.max(1, times[id]!);
}

/**
 * Walks the entries of the chain of `count` rules whose first entry is `first`. They are kept in an
 * array as long as the chain, of which only the first ones are written when a leak's copies are few
 * entries (fresh memory costs only where it is written). Then a rule's entry is searched by its
 * position, with where each entry's rules start, made on first use; a chain of single rules (nearly
 * every chain) has its rule `k` in entry `k`.
 */
export function chainEntries(a: EntryArrays, first: number, count: number): ChainEntries {
  const ids = new Int32Array(count);
  const { next, times, stride } = a;
  let entries = 0;
  for (let k = 0, id = first; k < count; id = next[id]!) {
    ids[entries++] = id;
    k += rulesOf(times, id);
  }
  let starts: Int32Array | undefined;
  const startOf = (e: number): number => (starts === undefined ? e : starts[e]!);
  const entryAt =
    entries === count
      ? (index: number) => index
      : (index: number) => lastAtMost((starts ??= entryStarts(ids, entries, times)), entries, index);
  const lineAt = (index: number): number => {
    const e = entryAt(index);
    const id = ids[e]!;
    const r = index - startOf(e);
    return r === 0 ? a.lines[id]! : a.lines[id]! + r * stride![id]!;
  };
  let lines: Int32Array | undefined;
  return {
    entryOf: (index) => ids[entryAt(index)]!,
    lineAt,
    lines: () => (lines ??= allLines(a, ids, entries, count)),
  };
}

/** The position in the chain of the first rule of each of the first `entries` entries of `ids`. */
function entryStarts(ids: Int32Array, entries: number, times: Int32Array | undefined): Int32Array {
  const starts = new Int32Array(entries);
  for (let e = 0, k = 0; e < entries; e++) {
    starts[e] = k;
    k += rulesOf(times, ids[e]!);
  }
  return starts;
}

/** The line of each of the `count` rules of the chain whose entries are the first `entries` of `ids`. */
function allLines(a: EntryArrays, ids: Int32Array, entries: number, count: number): Int32Array {
  const lines = new Int32Array(count);
  for (let e = 0, k = 0; e < entries; e++) {
    const id = ids[e]!;
    const n = rulesOf(a.times, id);
    const line = a.lines[id]!;
    const stride = n === 1 ? 0 : a.stride![id]!;
    for (let r = 0; r < n; r++, k++) lines[k] = line + r * stride;
  }
  return lines;
}

/** The index of the last of the first `n` numbers of the ascending `a` that is at most `x`. */
function lastAtMost(a: Int32Array, n: number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (a[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
