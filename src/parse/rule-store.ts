/**
 * The compact form of a parsed dump's rules: while the dump is read, a rule is four numbers in typed
 * arrays (its line, its chunk of the dump, its offset there, the next rule of its chain); a chain makes
 * its {@linkcode Rule} objects on first use. The bytes are held once, never copied into strings per rule.
 */
import type { Chain, Rule, RuleAccess, RuleRuns } from "../model/ruleset.ts";
import { sameRange, viewOf } from "./dump-bytes.ts";
import type { RuleBlock } from "./dump-handler.ts";
import { DumpRule, lineEnd, SplitDumpRule, type SplitParts } from "./dump-rule.ts";
import { decodeBytes, type RuleView } from "./rule-view.ts";

/** Per chain of one table, by declaration position: its first and last rule and its number of rules. */
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

/** The rules of a whole dump as typed arrays, and the chunks of bytes they point into. */
export class RuleStore {
  readonly #chunks: Uint8Array[] = [];
  #lastBytes: Uint8Array | undefined;
  #lines: Int32Array;
  #starts: Int32Array;
  #chunkOf: Int32Array;
  /** The next rule of the same chain, or -1. */
  #next: Int32Array;
  /** 1 where the reader saw that a rule's text is its chain's previous rule's ({@linkcode RuleView.repeat}). */
  #repeat: Uint8Array;
  #size = 0;
  #split: Map<number, SplitParts> | undefined;
  /** With `copy`: the chunk rule lines are copied into, and how much of it is used. */
  #arena: Uint8Array | undefined;
  #arenaUsed = 0;
  #arenaWords: DataView = new DataView(new ArrayBuffer(0));
  readonly #copy: boolean;

  /**
   * @param expected About how many rules to make room for at once (the arrays grow if needed).
   * @param options `copy`: the reader's chunks are reused (a file read into one buffer), so each
   *   rule's line is copied into the store's own chunks, but for a copy of its chain's previous rule
   *   ({@linkcode RuleView.repeat}), which shares that rule's bytes: a leak's copies cost no bytes.
   */
  constructor(expected = 1024, options: { readonly copy?: boolean } = {}) {
    this.#copy = options.copy === true;
    const n = Math.max(1024, expected);
    this.#lines = new Int32Array(n);
    this.#starts = new Int32Array(n);
    this.#chunkOf = new Int32Array(n);
    this.#next = new Int32Array(n);
    this.#repeat = new Uint8Array(n);
  }

  /** Records the rule the view points at as the last rule of its chain. */
  add(links: ChainLinks, view: RuleView): void {
    const id = this.#size;
    if (id === this.#lines.length) this.#grow();
    const c = view.chainId;
    if (view.split) {
      this.#split ??= new Map();
      this.#split.set(id, { raw: view.raw, text: view.text, counters: view.counters });
    } else if (this.#copy) {
      this.#place(id, view, links.count[c]! > 0 ? links.last[c]! : -1);
    } else {
      if (view.bytes !== this.#lastBytes) {
        this.#lastBytes = view.bytes;
        this.#chunks.push(view.bytes);
      }
      this.#starts[id] = view.rawStart;
      this.#chunkOf[id] = this.#chunks.length - 1;
    }
    this.#lines[id] = view.line;
    this.#next[id] = -1;
    this.#repeat[id] = view.repeat ? 1 : 0;
    this.#size = id + 1;
    if (links.count[c]!++ === 0) links.first[c] = id;
    else this.#next[links.last[c]!] = id;
    links.last[c] = id;
  }

  /**
   * Records the copies of a repeated block (see {@linkcode DumpHandler.repeatRules}): each copy of a
   * rule points at the bytes of the rule one block earlier (the same text) and is linked into its chain.
   */
  addBlock(links: ChainLinks, block: RuleBlock): void {
    const k = block.rules;
    const from = this.#size;
    const total = k * block.times;
    while (from + total > this.#lines.length) this.#grow();
    const chunkOf = this.#chunkOf;
    const starts = this.#starts;
    const repeat = this.#repeat;
    const lines = this.#lines;
    const next = this.#next;
    const { first, last, count } = links;
    const chains = block.chains;
    const end = from + total;
    for (let at = from; at < end; at += k) {
      for (let j = 0; j < k; j++) {
        const id = at + j;
        const base = id - k;
        chunkOf[id] = chunkOf[base]!;
        starts[id] = starts[base]!;
        repeat[id] = repeat[base]!;
        next[id] = -1;
        const c = chains[j]!;
        if (count[c]!++ === 0) first[c] = id;
        else next[last[c]!] = id;
        last[c] = id;
      }
    }
    for (let id = from, line = block.firstLine; id < end; id++, line++) lines[id] = line;
    this.#size = end;
    // Split rules (iptables -S -v) are read as text, never in a block; kept exact all the same.
    if (this.#split !== undefined) {
      for (let id = from; id < end; id++) {
        const split = this.#split.get(id - k);
        if (split !== undefined) this.#split.set(id, split);
      }
    }
  }

  /**
   * Where rule `id`'s line is kept when the store copies: its chain's previous rule's bytes when it
   * has the same text and neither has a counter prefix, else a copy (with a line feed after it).
   */
  #place(id: number, view: RuleView, prev: number): void {
    if (view.repeat && view.rawStart === view.start && prev >= 0 && !this.#split?.has(prev)) {
      const chunk = this.#chunkOf[prev]!;
      const start = this.#starts[prev]!;
      if (this.#chunks[chunk]![start] !== 91 /* [ */) {
        this.#chunkOf[id] = chunk;
        this.#starts[id] = start;
        return;
      }
    }
    const len = view.end - view.rawStart;
    let arena = this.#arena;
    if (arena === undefined || this.#arenaUsed + len + 1 > arena.length) {
      // Small dumps take little; big ones fill chunks of 4 MB.
      const size = Math.max(len + 1, Math.min(4 << 20, (arena?.length ?? 1 << 15) * 2));
      arena = this.#arena = new Uint8Array(size);
      this.#arenaWords = new DataView(arena.buffer);
      this.#arenaUsed = 0;
      this.#chunks.push(arena);
    }
    const at = this.#arenaUsed;
    // Copied 4 bytes at a time: a subarray per rule (a Buffer, when the chunk is one) costs more
    // than the copy of a 140-byte line.
    const words = this.#arenaWords;
    const from = view.words;
    const start = view.rawStart;
    let i = 0;
    for (; i + 4 <= len; i += 4) words.setInt32(at + i, from.getInt32(start + i, true), true);
    for (; i < len; i++) arena[at + i] = from.getUint8(start + i);
    arena[at + len] = 10;
    this.#arenaUsed = at + len + 1;
    this.#chunkOf[id] = this.#chunks.length - 1;
    this.#starts[id] = at;
  }

  /** Trims the arrays to their size once the dump is read, when that frees much. */
  seal(): void {
    const n = this.#size;
    if (n >= this.#lines.length * 0.75) return;
    this.#lines = this.#lines.slice(0, n);
    this.#starts = this.#starts.slice(0, n);
    this.#chunkOf = this.#chunkOf.slice(0, n);
    this.#next = this.#next.slice(0, n);
    this.#repeat = this.#repeat.slice(0, n);
  }

  /** The Rule objects of a chain whose first rule is `first`, in order. */
  rules(chain: Chain, first: number, count: number): Rule[] {
    const out = new Array<Rule>(count);
    for (let k = 0, id = first; k < count; k++, id = this.#next[id]!) out[k] = this.#rule(chain, k, id);
    return out;
  }

  /** The lines of a chain's rules, and each rule made when asked for (see {@linkcode RuleAccess}). */
  access(chain: Chain, first: number, count: number): RuleAccess {
    const ids = new Int32Array(count);
    const lines = new Int32Array(count);
    for (let k = 0, id = first; k < count; k++, id = this.#next[id]!) {
      ids[k] = id;
      lines[k] = this.#lines[id]!;
    }
    return { lines, at: (index) => this.#rule(chain, index, ids[index]!) };
  }

  #rule(chain: Chain, index: number, id: number): Rule {
    const split = this.#split?.get(id);
    return split === undefined
      ? new DumpRule(chain, index, this.#lines[id]!, this.#chunks[this.#chunkOf[id]!]!, this.#starts[id]!)
      : new SplitDumpRule(chain, index, this.#lines[id]!, split);
  }

  /**
   * The texts of a chain's rules in order; a rule whose line has the same bytes as the previous rule's
   * gets the same string (a leak's copies follow each other in their chain), decoded once.
   */
  texts(first: number, count: number): string[] {
    const { starts, texts } = this.runs(first, count);
    const out = new Array<string>(count);
    for (let r = 0; r < texts.length; r++) out.fill(texts[r]!, starts[r]!, starts[r + 1] ?? count);
    return out;
  }

  /**
   * A chain's rules as runs of rules with the same text (counters aside) right after each other: a
   * leak's copies are one run, read without an entry per copy. Run `r` is the rules from position
   * `starts[r]` to the next run's start (or the chain's end), all with the text `texts[r]`.
   */
  runs(first: number, count: number): RuleRuns {
    const starts: number[] = [];
    const texts: string[] = [];
    let prevView: DataView | undefined;
    let prevStart = 0;
    let prevEnd = 0;
    const cache: { bytes?: Uint8Array; view?: DataView } = {};
    for (let k = 0, id = first; k < count; k++, id = this.#next[id]!) {
      // The reader saw the copy (the common case of a leak): nothing to read.
      if (this.#repeat[id] === 1 && prevView !== undefined) continue;
      const split = this.#split?.get(id);
      if (split !== undefined) {
        starts.push(k);
        texts.push(split.text);
        prevView = undefined;
        continue;
      }
      const bytes = this.#chunks[this.#chunkOf[id]!]!;
      let start = this.#starts[id]!;
      if (bytes[start] === 91 /* [ */) {
        while (bytes[start] !== 93 /* ] */) start++;
        start += 2;
      }
      const end = lineEnd(bytes, start);
      const view = viewOf(bytes, cache);
      if (prevView === undefined || !sameRange(prevView, prevStart, prevEnd, view, start, end)) {
        starts.push(k);
        texts.push(decodeBytes(bytes, start, end));
        prevView = view;
        prevStart = start;
        prevEnd = end;
      }
    }
    return { starts: Int32Array.from(starts), texts };
  }

  #grow(): void {
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.#lines = grow(this.#lines);
    this.#starts = grow(this.#starts);
    this.#chunkOf = grow(this.#chunkOf);
    this.#next = grow(this.#next);
    const repeat = new Uint8Array(this.#repeat.length * 2);
    repeat.set(this.#repeat);
    this.#repeat = repeat;
  }
}
