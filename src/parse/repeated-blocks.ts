/**
 * How the reader's byte path recognises a leak's repeated block of lines and hands all its copies to
 * the handler at once ({@linkcode DumpHandler.repeatRules}). Internal to the reader.
 *
 * A leaking component appends the same few rules again and again, so a sick dump holds a block of
 * lines (one rule, or a rule per chain it leaks into) written many times back to back. Once every
 * rule of a block has been read twice line by line, every later copy is the same bytes: they are
 * compared as one span (`bytes[P..P+R·d)` against the span one block earlier), and the handler
 * counts the copies instead of reading each line. The copies' lines, chains and texts are exactly
 * those of the block, so a handler's result is the same as if it had read them one by one (the tests
 * compare both). A rule is read twice when the whole block before it was the same lines, or when
 * the rule was a copy of its chain's rule before it: after a line that breaks a leak's block (a
 * rule written between its copies), the block's next copy is then enough to take it again.
 */

import { sameBytes } from "./dump-bytes.ts";
import type { RuleBlock } from "./dump-handler.ts";
import { REPEAT_WINDOW } from "./dump-handler.ts";
import { grownInt32, grownUint8 } from "./grow-array.ts";
import type { RuleChains } from "./rule-chains.ts";

/** The block handed to the handler (reused: valid during the call). */
class Block implements RuleBlock {
  rules = 0;
  times = 0;
  firstLine = 0;
  chains: Int32Array = new Int32Array(0);
}

/**
 * The rule lines the byte path read one after the other in the current chunk (a run): per line, its
 * chain and where its raw line and its text are. A line read any other way (a declaration, a rule read
 * as text, a new chunk) ends the run, so a block found inside it holds nothing but plain rules.
 */
export class RepeatedBlocks {
  #chain: Int32Array = new Int32Array(1024);
  /** 1 where the line's text was read before in its chain (the reader's `repeat`, or a block's copy). */
  #again: Uint8Array = new Uint8Array(1024);
  #raw: Int32Array = new Int32Array(1024);
  #start: Int32Array = new Int32Array(1024);
  #end: Int32Array = new Int32Array(1024);
  /** The chunk number of the run, its first line's number and its number of lines. */
  #chunk = -1;
  #base = 0;
  #count = 0;
  readonly #block = new Block();

  /**
   * Records a rule line read on the byte path (line numbers and chunk tell whether it continues the
   * run); `again`: it is a copy of its chain's rule before it ({@linkcode RuleView.repeat}).
   */
  record(
    chunk: number,
    line: number,
    chain: number,
    raw: number,
    start: number,
    end: number,
    again: boolean,
  ): void {
    if (chunk !== this.#chunk || line !== this.#base + this.#count) {
      this.#chunk = chunk;
      this.#base = line;
      this.#count = 0;
    }
    const i = this.#count;
    if (i === this.#chain.length) this.#grow();
    this.#chain[i] = chain;
    this.#again[i] = again ? 1 : 0;
    this.#raw[i] = raw;
    this.#start[i] = start;
    this.#end[i] = end;
    this.#count = i + 1;
  }

  /**
   * At the rule line starting at `p` (line number `line`, not yet read), which is a copy of its
   * chain's previous rule at line `prevLine`: when each rule from `prevLine` to here was read twice
   * (see the file comment) and the bytes from `p` on repeat those lines, that block of lines is
   * handed to `deliver` with the number of its copies that start at `p`. Returns where the line after
   * the last copy starts, or -1 (nothing done: read the line as usual).
   */
  tryRepeat(
    bytes: Uint8Array,
    words: DataView,
    at: { readonly chunk: number; readonly line: number; readonly prevLine: number; readonly p: number },
    chains: RuleChains,
    deliver: (block: RuleBlock) => void,
  ): number {
    const k = at.line - at.prevLine;
    const first = at.prevLine - this.#base;
    // The block in the run, which reaches the line before this one.
    if (at.chunk !== this.#chunk || first < 0 || this.#base + this.#count !== at.line || k > REPEAT_WINDOW) {
      return -1;
    }
    const q = this.#raw[first]!;
    const d = at.p - q;
    // Every rule of the block read twice by the handlers: each line a copy of its chain's rule before
    // it, or the block a copy of the lines before it.
    if (!this.#allAgain(first, k) && !this.#afterCopy(bytes, words, first, k, d)) return -1;
    const times = copiesAt(bytes, words, q, at.p, d);
    if (times === 0) return -1;
    const shift = times * d;
    const block = this.#block;
    block.rules = k;
    block.times = times;
    block.firstLine = at.line;
    block.chains = this.#chain.subarray(first, first + k);
    const index = chains.chains;
    for (let j = first; j < first + k; j++) {
      const c = this.#chain[j]!;
      index.addRules(c, times);
      chains.remember(c, at.chunk, this.#start[j]! + shift, this.#end[j]! + shift);
    }
    chains.setLast(this.#chain[first + k - 1]!);
    deliver(block);
    this.#keepLastCopy(first, k, shift, at.line + (times - 1) * k);
    return at.p + shift;
  }

  /** Whether the text of each of the `k` lines of the run from `first` was read before, in its chain. */
  #allAgain(first: number, k: number): boolean {
    const again = this.#again;
    for (let j = first; j < first + k; j++) if (again[j] === 0) return false;
    return true;
  }

  /** Whether the `k` lines of the run from `first` (`d` bytes) are a copy of the `k` lines before them. */
  #afterCopy(bytes: Uint8Array, words: DataView, first: number, k: number, d: number): boolean {
    if (first < k) return false;
    const a = this.#raw[first - k]!;
    const q = this.#raw[first]!;
    return q - a === d && sameSpan(bytes, words, a, q, d);
  }

  /** The run becomes the block's last copy (lines from `line`), which a later block may start from. */
  #keepLastCopy(from: number, k: number, shift: number, line: number): void {
    for (const a of [this.#chain, this.#raw, this.#start, this.#end]) a.copyWithin(0, from, from + k);
    this.#again.fill(1, 0, k);
    for (let j = 0; j < k; j++) {
      this.#raw[j]! += shift;
      this.#start[j]! += shift;
      this.#end[j]! += shift;
    }
    this.#base = line;
    this.#count = k;
  }

  #grow(): void {
    this.#chain = grownInt32(this.#chain);
    this.#raw = grownInt32(this.#raw);
    this.#start = grownInt32(this.#start);
    this.#end = grownInt32(this.#end);
    this.#again = grownUint8(this.#again);
  }
}

/**
 * How many whole copies of the `d` bytes before `p` (from `q`) follow from `p` in the chunk: spans
 * twice as long each time they match, then back to one copy after a mismatch, until one copy differs.
 */
function copiesAt(bytes: Uint8Array, words: DataView, q: number, p: number, d: number): number {
  const max = Math.floor((bytes.length - p) / d);
  let done = 0;
  let step = 1;
  while (done < max) {
    const n = Math.min(step, max - done);
    if (sameSpan(bytes, words, q + done * d, p + done * d, n * d)) {
      done += n;
      step *= 2;
    } else if (n === 1) {
      break;
    } else {
      step = 1;
    }
  }
  return done;
}

/** A Node Buffer's own comparison (memcmp), when the chunk is one. */
type Comparable = Uint8Array & {
  compare(target: Uint8Array, targetStart: number, targetEnd: number, start: number, end: number): number;
};

/**
 * Whether `len` bytes at `a` and at `b` of the chunk are the same. A long span of a Node Buffer (what
 * the files are read into) is compared by the Buffer itself, at memcmp speed: a leak's copies are most
 * of a sick dump's bytes. Anything else is compared 16 bytes a step.
 */
function sameSpan(bytes: Uint8Array, words: DataView, a: number, b: number, len: number): boolean {
  if (len >= 256 && typeof (bytes as Partial<Comparable>).compare === "function") {
    return (bytes as Comparable).compare(bytes, a, a + len, b, b + len) === 0;
  }
  return sameBytes(words, a, b, len);
}

/**
 * Per rule of a block: 1 when its chain has no other rule in the block; written into the front of
 * `once` when given (its first `chains.length` bytes).
 */
export function onceIn(chains: Int32Array, once = new Uint8Array(chains.length)): Uint8Array {
  const k = chains.length;
  once.fill(1, 0, k);
  if (k <= 32) {
    // A leak's block is a few rules: compared pairwise, nothing else allocated.
    for (let i = 0; i < k; i++)
      for (let j = i + 1; j < k; j++) if (chains[i] === chains[j]) once[i] = once[j] = 0;
    return once;
  }
  const seen = new Map<number, number>();
  for (const c of chains) seen.set(c, (seen.get(c) ?? 0) + 1);
  for (let i = 0; i < k; i++) if (seen.get(chains[i]!) !== 1) once[i] = 0;
  return once;
}
