/**
 * The compact form of a parsed dump's rules: while the dump is read, a rule is four numbers in typed
 * arrays (its line, its chunk of the dump, its offset there, the next rule of its chain); a chain makes
 * its {@linkcode Rule} objects on first use of `rules`. Every rule keeps pointing into the dump's
 * bytes, which are its evidence: the bytes are held once, never copied into strings per rule.
 */
import type { Chain, Counters, Rule, RuleSpec, TableName } from "../model/ruleset.ts";
import type { ChainIndex } from "./chain-index.ts";
import { parseRule } from "./parse-rule.ts";
import { decodeBytes, type RuleView } from "./rule-view.ts";

/** The `[packets:bytes] ` prefix of `iptables-save -c` lines. */
const COUNTER_PREFIX = /^\[(\d+):(\d+)\] /;

/** End of the line that starts at `start` (before its CR, LF or the end of the bytes). */
function lineEnd(bytes: Uint8Array, start: number): number {
  let end = bytes.indexOf(10, start);
  if (end < 0) end = bytes.length;
  return end > start && bytes[end - 1] === 13 ? end - 1 : end;
}

/** Whether two byte ranges hold the same bytes (read through DataViews of their arrays, 4 at a time). */
function sameRange(
  a: DataView,
  aStart: number,
  aEnd: number,
  b: DataView,
  bStart: number,
  bEnd: number,
): boolean {
  const len = aEnd - aStart;
  if (len !== bEnd - bStart) return false;
  let i = 0;
  for (; i + 4 <= len; i += 4) if (a.getInt32(aStart + i) !== b.getInt32(bStart + i)) return false;
  for (; i < len; i++) if (a.getUint8(aStart + i) !== b.getUint8(bStart + i)) return false;
  return true;
}

/** A DataView of `bytes`, remembered for the next call with the same array. */
function viewOf(bytes: Uint8Array, last: { bytes?: Uint8Array; view?: DataView }): DataView {
  if (last.bytes !== bytes || last.view === undefined) {
    last.bytes = bytes;
    last.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return last.view;
}

/**
 * A rule whose options are parsed on first use. It keeps only what cannot be derived: its chain
 * (which knows the table and chain name), position, line, and where its line is in the dump's
 * bytes; `raw`, `text` and `counters` are decoded on use (the `[p:b] ` prefix is the only difference
 * between raw and text). Rules where they cannot be (`iptables -S -v` puts `-c P B` inside the rule)
 * are {@linkcode SplitDumpRule}s.
 */
class DumpRule implements Rule {
  readonly #chain: Chain;
  readonly index: number;
  readonly line: number;
  readonly #bytes: Uint8Array;
  readonly #start: number;
  #spec: RuleSpec | undefined;

  constructor(chain: Chain, index: number, line: number, bytes: Uint8Array, start: number) {
    this.#chain = chain;
    this.index = index;
    this.line = line;
    this.#bytes = bytes;
    this.#start = start;
    this.#spec = undefined;
  }

  get table(): TableName {
    return this.#chain.table;
  }

  get chain(): string {
    return this.#chain.name;
  }

  get raw(): string {
    return decodeBytes(this.#bytes, this.#start, lineEnd(this.#bytes, this.#start));
  }

  get text(): string {
    const b = this.#bytes;
    const start = this.#start;
    if (b[start] !== 91 /* [ */) return this.raw;
    let t = start;
    while (b[t] !== 93 /* ] */) t++;
    return decodeBytes(b, t + 2, lineEnd(b, start));
  }

  /**
   * Typed as always present because a getter cannot be declared optional under
   * `exactOptionalPropertyTypes`; reading `Rule.counters` sees `Counters | undefined` either way.
   */
  get counters(): Counters {
    if (this.#bytes[this.#start] !== 91) return undefined as unknown as Counters;
    const m = COUNTER_PREFIX.exec(this.raw)!;
    return { packets: m[1]!, bytes: m[2]! };
  }

  get spec(): RuleSpec {
    if (this.#spec === undefined) this.#spec = parseRule(this.text, this.line).spec;
    return this.#spec;
  }

  toJSON(): object {
    return { table: this.table, chain: this.chain, index: this.index, line: this.line, raw: this.raw };
  }
}

/** A rule whose text and counters are not `raw` minus a prefix (`iptables -S -v`'s inner `-c P B`). */
class SplitDumpRule extends DumpRule {
  readonly #raw: string;
  readonly #text: string;
  readonly #counters: Counters | undefined;

  constructor(chain: Chain, index: number, line: number, parts: SplitParts) {
    super(chain, index, line, EMPTY, 0);
    this.#raw = parts.raw;
    this.#text = parts.text;
    this.#counters = parts.counters;
  }

  override get raw(): string {
    return this.#raw;
  }

  override get text(): string {
    return this.#text;
  }

  override get counters(): Counters {
    return this.#counters as Counters;
  }
}

const EMPTY = new Uint8Array(0);

interface SplitParts {
  readonly raw: string;
  readonly text: string;
  readonly counters: Counters | undefined;
}

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
  #size = 0;
  #split: Map<number, SplitParts> | undefined;

  /** @param expected About how many rules to make room for at once (the arrays grow if needed). */
  constructor(expected = 1024) {
    const n = Math.max(1024, expected);
    this.#lines = new Int32Array(n);
    this.#starts = new Int32Array(n);
    this.#chunkOf = new Int32Array(n);
    this.#next = new Int32Array(n);
  }

  /** Records the rule the view points at as the last rule of its chain. */
  add(links: ChainLinks, view: RuleView): void {
    const id = this.#size;
    if (id === this.#lines.length) this.#grow();
    if (view.split) {
      this.#split ??= new Map();
      this.#split.set(id, { raw: view.raw, text: view.text, counters: view.counters });
    } else if (view.bytes !== this.#lastBytes) {
      this.#lastBytes = view.bytes;
      this.#chunks.push(view.bytes);
    }
    this.#lines[id] = view.line;
    this.#starts[id] = view.rawStart;
    this.#chunkOf[id] = this.#chunks.length - 1;
    this.#next[id] = -1;
    this.#size = id + 1;
    const c = view.chainId;
    if (links.count[c]!++ === 0) links.first[c] = id;
    else this.#next[links.last[c]!] = id;
    links.last[c] = id;
  }

  /** Trims the arrays to their size once the dump is read, when that frees much. */
  seal(): void {
    const n = this.#size;
    if (n >= this.#lines.length * 0.875) return;
    this.#lines = this.#lines.slice(0, n);
    this.#starts = this.#starts.slice(0, n);
    this.#chunkOf = this.#chunkOf.slice(0, n);
    this.#next = this.#next.slice(0, n);
  }

  /** The Rule objects of a chain whose first rule is `first`, in order. */
  rules(chain: Chain, first: number, count: number): Rule[] {
    const out = new Array<Rule>(count);
    for (let k = 0, id = first; k < count; k++, id = this.#next[id]!) {
      const split = this.#split?.get(id);
      out[k] =
        split === undefined
          ? new DumpRule(chain, k, this.#lines[id]!, this.#chunks[this.#chunkOf[id]!]!, this.#starts[id]!)
          : new SplitDumpRule(chain, k, this.#lines[id]!, split);
    }
    return out;
  }

  /**
   * The texts of a chain's rules in order; a rule whose line has the same bytes as the previous rule's
   * gets the same string (a leak's copies follow each other in their chain), decoded once.
   */
  texts(first: number, count: number): string[] {
    const out = new Array<string>(count);
    let prev = "";
    let prevView: DataView | undefined;
    let prevStart = 0;
    let prevEnd = 0;
    const cache: { bytes?: Uint8Array; view?: DataView } = {};
    for (let k = 0, id = first; k < count; k++, id = this.#next[id]!) {
      const split = this.#split?.get(id);
      if (split !== undefined) {
        out[k] = prev = split.text;
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
        prev = decodeBytes(bytes, start, end);
        prevView = view;
        prevStart = start;
        prevEnd = end;
      }
      out[k] = prev;
    }
    return out;
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
  }
}

/** What the chains of one table of a parsed dump share. */
export class TableRules {
  readonly links = new ChainLinks();
  /** The reader's chain names of the table (set at its first declaration). */
  index: ChainIndex | undefined;

  constructor(
    readonly table: TableName,
    readonly store: RuleStore,
  ) {}
}

/** What a declaration gives a chain (a {@linkcode ChainView} or a `ChainDeclaration`). */
interface Declared {
  readonly line: number;
  readonly builtin: boolean;
  readonly policy?: "ACCEPT" | "DROP" | undefined;
  readonly counters: Counters;
}

const ZERO: Counters = { packets: "0", bytes: "0" };

/**
 * A declared chain of a parsed dump. Its rules are a linked list in the {@linkcode RuleStore} until
 * `rules` is first read; then they are made, in order, once. A node has hundreds of thousands of
 * user chains without counters, so those keep only their name, line and position (the rest is
 * derived); other chains are {@linkcode DeclaredDumpChain}s.
 */
export class DumpChain implements Chain {
  readonly line: number;
  readonly #t: TableRules;
  readonly #id: number;
  #rules: Rule[] | undefined;

  /** The chain for a declaration, in the shape that costs least. */
  static of(decl: Declared, t: TableRules, id: number): DumpChain {
    const c = decl.counters;
    return decl.builtin || decl.policy !== undefined || c.packets !== "0" || c.bytes !== "0"
      ? new DeclaredDumpChain(decl, t, id)
      : new DumpChain(decl, t, id);
  }

  protected constructor(decl: Declared, t: TableRules, id: number) {
    this.line = decl.line;
    this.#t = t;
    this.#id = id;
    t.links.reserve(id);
  }

  /** The declared name, made from the dump's bytes on first use (and kept by the table's index). */
  get name(): string {
    return this.#t.index!.name(this.#id);
  }

  get table(): TableName {
    return this.#t.table;
  }

  get builtin(): boolean {
    return false;
  }

  get counters(): Counters {
    return ZERO;
  }

  /**
   * Undefined for a user chain. Typed as always present because a getter cannot be declared optional
   * under `exactOptionalPropertyTypes`; reading `Chain.policy` sees `undefined` in its type either way.
   */
  get policy(): "ACCEPT" | "DROP" {
    return undefined as unknown as "ACCEPT" | "DROP";
  }

  /** Number of rules, without making them. */
  get ruleCount(): number {
    return this.#rules?.length ?? this.#t.links.count[this.#id]!;
  }

  /** The texts of the rules in order, identical neighbours sharing one string (see {@linkcode RuleStore.texts}). */
  ruleTexts(): string[] {
    const links = this.#t.links;
    const count = links.count[this.#id]!;
    return count === 0 ? [] : this.#t.store.texts(links.first[this.#id]!, count);
  }

  get rules(): Rule[] {
    if (this.#rules === undefined) {
      const links = this.#t.links;
      const count = links.count[this.#id]!;
      this.#rules = count === 0 ? [] : this.#t.store.rules(this, links.first[this.#id]!, count);
    }
    return this.#rules;
  }

  toJSON(): object {
    const { name, table, counters, builtin, line, rules } = this;
    const policy: string | undefined = this.policy;
    return policy === undefined
      ? { name, table, counters, builtin, line, rules }
      : { name, table, policy, counters, builtin, line, rules };
  }
}

/** A built-in chain, or a user chain with counters: the declaration's values are kept as given. */
class DeclaredDumpChain extends DumpChain {
  readonly #builtin: boolean;
  readonly #counters: Counters;
  readonly #policy: "ACCEPT" | "DROP" | undefined;

  constructor(decl: Declared, t: TableRules, id: number) {
    super(decl, t, id);
    this.#builtin = decl.builtin;
    this.#counters = decl.counters;
    this.#policy = decl.policy;
  }

  override get builtin(): boolean {
    return this.#builtin;
  }

  override get counters(): Counters {
    return this.#counters;
  }

  override get policy(): "ACCEPT" | "DROP" {
    return this.#policy as "ACCEPT" | "DROP";
  }
}
