/**
 * The compact form of a parsed dump's rules: while the dump is read, a rule is four numbers in typed
 * arrays (its line, its chunk of the dump, its offset there, the next entry of its chain); a chain makes
 * its {@linkcode Rule} objects on first use. The bytes are held once, never copied into strings per rule.
 * The copies of a leak's repeated block ({@linkcode RuleStore.addBlock}) that follow one another in
 * their chain are one entry standing for all of them (their count and the distance between their
 * lines): a million leaked copies are a few entries, and walking a chain expands them.
 */
import type { Chain, Rule, RuleAccess, RuleRuns } from "../model/ruleset.ts";
import { chainEntries, rulesOf } from "./chain-entries.ts";
import type { ChainLinks } from "./chain-links.ts";
import { sameRange, viewOf } from "./dump-bytes.ts";
import type { RuleBlock } from "./dump-handler.ts";
import { REPEAT_WINDOW } from "./dump-handler.ts";
import { DumpRule, lineEnd, SplitDumpRule, type SplitParts } from "./dump-rule.ts";
import { grownInt32, grownUint8 } from "./grow-array.ts";
import { LineArena } from "./line-arena.ts";
import { onceIn } from "./repeated-blocks.ts";
import { decodeBytes, type RuleView } from "./rule-view.ts";

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
  /**
   * Per entry: how many rules it stands for (0: one), and the distance between their lines (a
   * repeated block's copies of a chain's one rule in the block); made at the first such entry.
   */
  #times: Int32Array | undefined;
  #stride: Int32Array | undefined;
  /** Entries used. */
  #size = 0;
  /** Rules added, and the entry of each of the last ones (by number, mod REPEAT_WINDOW). */
  #rules = 0;
  readonly #recent = new Int32Array(REPEAT_WINDOW);
  #split: Map<number, SplitParts> | undefined;
  /** With `copy`: where rule lines are copied to. */
  readonly #arena = new LineArena();
  readonly #copy: boolean;
  /** A repeated block's entries, its rules alone in their chain, its last entries (see addBlock). */
  readonly #block = {
    base: new Int32Array(REPEAT_WINDOW),
    once: new Uint8Array(REPEAT_WINDOW),
    last: new Int32Array(REPEAT_WINDOW),
  };

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
    this.#recent[this.#rules++ & (REPEAT_WINDOW - 1)] = id;
    if (links.count[c]!++ === 0) links.first[c] = id;
    else this.#next[links.last[c]!] = id;
    links.last[c] = id;
  }

  /**
   * Records the copies of a repeated block (see {@linkcode DumpHandler.repeatRules}), each pointing at
   * the bytes of the same rule of the block. A chain with one rule in the block gets one entry for all
   * its copies; a chain with several gets an entry per copy (its rules alternate).
   */
  addBlock(links: ChainLinks, block: RuleBlock): void {
    const { rules: k, times, chains } = block;
    const mask = REPEAT_WINDOW - 1;
    const before = this.#rules;
    // Arrays of the store's own: a leak's block comes back after every line that breaks it.
    const { base, once, last } = this.#block;
    // The block's entries, read before the ring is written (k * times may wrap onto them).
    for (let j = 0; j < k; j++) base[j] = this.#recent[(before - k + j) & mask]!;
    onceIn(chains, once);
    let alternate = false;
    for (let j = 0; j < k; j++) {
      if (once[j] === 0) {
        alternate = true;
        continue;
      }
      const id = this.#entry(base[j]!, block.firstLine + j, links, chains[j]!, 1);
      this.#times![id] = times;
      this.#stride![id] = k;
      links.count[chains[j]!]! += times - 1;
      last[j] = id;
    }
    if (alternate) {
      // A chain's rules alternate in the block: an entry per copy, each after the one a block earlier.
      const prev = base.slice(0, k);
      for (let r = 0; r < times; r++) {
        for (let j = 0; j < k; j++) {
          if (once[j] === 1) continue;
          const c = chains[j]!;
          const b = prev[j]!;
          prev[j] = this.#entry(b, block.firstLine + r * k + j, links, c, this.#repeat[b]!);
        }
      }
      for (let j = 0; j < k; j++) if (once[j] === 0) last[j] = prev[j]!;
    }
    this.#rules = before + k * times;
    for (let j = 0; j < k; j++) this.#recent[(this.#rules - k + j) & mask] = last[j]!;
  }

  /**
   * A new entry for a copy of entry `base`'s rule, at `line`, last of chain `c`; `repeat` as for
   * {@linkcode RuleView.repeat} (an entry for all of a chain's copies follows the same text: 1).
   */
  #entry(base: number, line: number, links: ChainLinks, c: number, repeat: number): number {
    const id = this.#size;
    if (id === this.#lines.length) this.#grow();
    if (this.#times === undefined) {
      this.#times = new Int32Array(this.#lines.length);
      this.#stride = new Int32Array(this.#lines.length);
    }
    this.#chunkOf[id] = this.#chunkOf[base]!;
    this.#starts[id] = this.#starts[base]!;
    this.#repeat[id] = repeat;
    this.#lines[id] = line;
    this.#next[id] = -1;
    const split = this.#split?.get(base);
    if (split !== undefined) this.#split!.set(id, split);
    this.#size = id + 1;
    if (links.count[c]!++ === 0) links.first[c] = id;
    else this.#next[links.last[c]!] = id;
    links.last[c] = id;
    return id;
  }

  /**
   * Where rule `id`'s line is kept when the store copies: its chain's previous rule's bytes when it
   * has the same text and neither has a counter prefix, else a copy (with a line feed after it).
   */
  #place(id: number, view: RuleView, prev: number): void {
    if (view.repeat && view.rawStart === view.start && prev >= 0 && !this.#split?.has(prev)) {
      this.#arena.flush();
      const chunk = this.#chunkOf[prev]!;
      const start = this.#starts[prev]!;
      if (this.#chunks[chunk]![start] !== 91 /* [ */) {
        this.#chunkOf[id] = chunk;
        this.#starts[id] = start;
        return;
      }
    }
    this.#starts[id] = this.#arena.copy(view, this.#chunks);
    this.#chunkOf[id] = this.#chunks.length - 1;
  }

  /**
   * Copies the lines placed since the last call into the store's own chunks: before the reader's
   * chunk is reused, and before the rules are read (see {@linkcode LineArena}).
   */
  flush(): void {
    this.#arena.flush();
  }

  /** Trims the arrays to their size once the dump is read, when that frees much. */
  seal(): void {
    this.#arena.flush();
    const n = this.#size;
    if (n >= this.#lines.length * 0.75) return;
    this.#lines = this.#lines.slice(0, n);
    this.#starts = this.#starts.slice(0, n);
    this.#chunkOf = this.#chunkOf.slice(0, n);
    this.#next = this.#next.slice(0, n);
    this.#repeat = this.#repeat.slice(0, n);
    this.#times = this.#times?.slice(0, n);
    this.#stride = this.#stride?.slice(0, n);
  }

  /** The Rule objects of a chain whose first entry is `first`, in order. */
  rules(chain: Chain, first: number, count: number): Rule[] {
    const { at } = this.access(chain, first, count);
    const out = new Array<Rule>(count);
    for (let k = 0; k < count; k++) out[k] = at(k);
    return out;
  }

  /**
   * The lines of a chain's rules, and each rule made when asked for (see {@linkcode RuleAccess}): a
   * rule's entry is found among the chain's entries (an entry stands for all of a leak's copies).
   */
  access(chain: Chain, first: number, count: number): RuleAccess {
    const arrays = { next: this.#next, lines: this.#lines, times: this.#times, stride: this.#stride };
    const walk = chainEntries(arrays, first, count);
    return {
      get lines() {
        return walk.lines();
      },
      lineAt: (index) => walk.lineAt(index),
      at: (index) => this.#rule(chain, index, walk.entryOf(index), walk.lineAt(index)),
    };
  }

  #rule(chain: Chain, index: number, id: number, line: number): Rule {
    const split = this.#split?.get(id);
    return split === undefined
      ? new DumpRule(chain, index, line, this.#chunks[this.#chunkOf[id]!]!, this.#starts[id]!)
      : new SplitDumpRule(chain, index, line, split);
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
    for (let k = 0, id = first; k < count; k += rulesOf(this.#times, id), id = this.#next[id]!) {
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
      // After a counter prefix, `[packets:bytes] `.
      if (bytes[start] === 91 /* [ */) start = bytes.indexOf(93 /* ] */, start) + 2;
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
    this.#lines = grownInt32(this.#lines);
    this.#starts = grownInt32(this.#starts);
    this.#chunkOf = grownInt32(this.#chunkOf);
    this.#next = grownInt32(this.#next);
    this.#repeat = grownUint8(this.#repeat);
    if (this.#times !== undefined) this.#times = grownInt32(this.#times);
    if (this.#stride !== undefined) this.#stride = grownInt32(this.#stride);
  }
}
