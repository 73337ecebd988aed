import type { Counters, TableName } from "../model/ruleset.ts";
import type { ChainIndex } from "./chain-index.ts";

/** A rule line as read: structure only, the options are not parsed here. */
export interface RuleLine {
  readonly table: TableName;
  readonly chain: string;
  /** 0-based position of the rule within its chain. */
  readonly index: number;
  readonly line: number;
  readonly raw: string;
  /** `-A ...` without the counter prefix. */
  readonly text: string;
  readonly counters?: Counters;
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const EMPTY_WORDS = new DataView(EMPTY.buffer);

/** Decodes UTF-8 `bytes` from `start` to `end` (bytes that are not UTF-8 become U+FFFD, as a UTF-8 file read does). */
export function decodeBytes(bytes: Uint8Array, start: number, end: number): string {
  // A plain view: `subarray` of a Node Buffer makes a Buffer, which costs several times more.
  return decoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start));
}

/**
 * One rule line of a dump as the reader hands it to a {@linkcode DumpHandler}'s `ruleView`: where its
 * bytes are, with the text made only when asked. The reader reuses one view for every rule, so it is
 * valid only during the call; a handler that keeps something copies it (`text`, `bytes` with
 * `rawStart`, or the numbers). This is what lets one pass over a million-rule dump feed a scanner,
 * an index and a parser without a string per rule.
 *
 * Bytes: `bytes[rawStart..end)` is the line as written without its line end (CR and LF), with any
 * `[packets:bytes] ` prefix; `bytes[start..end)` is the rule text `-A CHAIN ...`, which duplicates
 * are compared on. For `iptables -S -v` lines, whose counters sit inside the rule, `bytes` is the
 * rule text alone and `raw` the line as written.
 */
export class RuleView {
  table: TableName = "filter";
  /** Position of the chain in its table's declarations (stable for the whole table). */
  chainId = 0;
  index = 0;
  line = 0;
  bytes: Uint8Array = EMPTY;
  /** `bytes` read 4 at a time: a DataView over the same memory, made once per chunk by the reader. */
  words: DataView = EMPTY_WORDS;
  /**
   * A number that changes whenever `bytes` holds other data (each chunk the reader is given, and each
   * line it had to join across chunks): a handler that searches a chunk once caches by it, which is
   * safe even when the caller reads every chunk into the same buffer.
   */
  chunk = 0;
  rawStart = 0;
  start = 0;
  end = 0;
  /**
   * True when the reader saw that this rule's text is byte for byte the text of the previous rule of
   * its chain (a leak writes its copies back to back in their chain): a handler may reuse what it
   * worked out for that rule. False says nothing: the reader compares only where it is cheap (both
   * rules in the same chunk).
   */
  repeat = false;
  #chains: ChainIndex | undefined;
  #text: string | undefined;
  #raw: string | undefined;
  #counters: Counters | undefined | null;
  #split = false;

  /** Points the view at the next rule (called by the reader). */
  set(
    table: TableName,
    chains: ChainIndex,
    chainId: number,
    index: number,
    line: number,
    bytes: Uint8Array,
    chunk: number,
    rawStart: number,
    start: number,
    end: number,
  ): void {
    this.table = table;
    this.#chains = chains;
    this.chainId = chainId;
    this.index = index;
    this.line = line;
    this.bytes = bytes;
    this.chunk = chunk;
    this.rawStart = rawStart;
    this.start = start;
    this.end = end;
    this.repeat = false;
    this.#text = undefined;
    this.#raw = undefined;
    this.#counters = null;
    this.#split = false;
    this.#targetDone = false;
  }

  /** Sets the raw line and counters of an `iptables -S -v` rule, whose `bytes` are its text alone. */
  setSplit(raw: string, counters: Counters | undefined): void {
    this.#raw = raw;
    this.#counters = counters;
    this.#split = true;
  }

  /** True for a rule whose `raw` is not `bytes[rawStart..end)` (see {@linkcode RuleView.setSplit}). */
  get split(): boolean {
    return this.#split;
  }

  /** The chain's declared name (the same string for every rule of the chain, made on first use). */
  get chain(): string {
    return this.#chains!.name(this.chainId);
  }

  get text(): string {
    this.#text ??= decodeBytes(this.bytes, this.start, this.end);
    return this.#text;
  }

  get raw(): string {
    if (this.#raw !== undefined) return this.#raw;
    this.#raw = this.rawStart === this.start ? this.text : decodeBytes(this.bytes, this.rawStart, this.end);
    return this.#raw;
  }

  /** The `[packets:bytes]` prefix (or `iptables -S -v` counters); undefined when the line has none. */
  get counters(): Counters | undefined {
    if (this.#counters !== null) return this.#counters;
    this.#counters = undefined;
    if (this.rawStart !== this.start) {
      const b = this.bytes;
      let colon = this.rawStart + 1;
      while (b[colon] !== 58) colon++;
      let close = colon + 1;
      while (b[close] !== 93) close++;
      this.#counters = {
        packets: decodeBytes(b, this.rawStart + 1, colon),
        bytes: decodeBytes(b, colon + 1, close),
      };
    }
    return this.#counters;
  }

  /** Whether the rule text starts with `prefix` (ASCII), compared on the bytes. */
  startsWith(prefix: string): boolean {
    if (this.start + prefix.length > this.end) return false;
    const b = this.bytes;
    const at = this.start;
    for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix.charCodeAt(i)) return false;
    return true;
  }

  /** Whether the rule text holds `needle` (ASCII, not empty), searched on the bytes. */
  includes(needle: string): boolean {
    const b = this.bytes;
    const first = needle.charCodeAt(0);
    const last = this.end - needle.length;
    for (let at = b.indexOf(first, this.start); at >= 0 && at <= last; at = b.indexOf(first, at + 1)) {
      let i = 1;
      while (i < needle.length && b[at + i] === needle.charCodeAt(i)) i++;
      if (i === needle.length) return true;
    }
    return false;
  }

  /** Whether the rule text ends with `suffix` (ASCII), compared on the bytes. */
  endsWith(suffix: string): boolean {
    const from = this.end - suffix.length;
    if (from < this.start) return false;
    const b = this.bytes;
    for (let i = 0; i < suffix.length; i++) if (b[from + i] !== suffix.charCodeAt(i)) return false;
    return true;
  }

  /**
   * The word after the last ` -j ` or ` -g ` outside double quotes (iptables-save prints the target
   * last), or undefined. A declared chain's name comes back as the very string of its declaration,
   * so asking costs no allocation for most rules.
   */
  target(): string | undefined {
    this.#findTarget();
    if (this.#targetChain >= 0) return this.#chains!.name(this.#targetChain);
    return this.#targetText;
  }

  /**
   * Position of the target in the table's declared chains (as `chainId`), or -1 when the rule has no
   * target or its target is not a chain declared so far (ACCEPT, DNAT, an undeclared chain...).
   */
  targetChain(): number {
    this.#findTarget();
    return this.#targetChain;
  }

  #targetDone = false;
  #targetChain = -1;
  #targetText: string | undefined;

  #findTarget(): void {
    if (this.#targetDone) return;
    this.#targetDone = true;
    this.#targetChain = -1;
    this.#targetText = undefined;
    const b = this.bytes;
    const start = this.start;
    const last = this.end - 4;
    for (let i = this.end - 1; i >= start; i--) {
      const c = b[i];
      if (c === 34 /* " */) {
        this.#targetText = targetOfText(this.text);
        if (this.#targetText !== undefined) this.#targetChain = this.#chains?.find(this.#targetText) ?? -1;
        return;
      }
      if (
        c === 32 &&
        i <= last &&
        b[i + 1] === 45 &&
        (b[i + 2] === 106 || b[i + 2] === 103) &&
        b[i + 3] === 32
      ) {
        let e = i + 4;
        while (e < this.end && b[e] !== 32) e++;
        this.#targetChain = this.#chains?.findBytes(b, i + 4, e) ?? -1;
        if (this.#targetChain < 0) this.#targetText = commonTarget(b, i + 4, e) ?? decodeBytes(b, i + 4, e);
        return;
      }
    }
  }

  /** An immutable copy for handlers that keep rule lines. */
  toRuleLine(): RuleLine {
    const c = this.counters;
    const base = {
      table: this.table,
      chain: this.chain,
      index: this.index,
      line: this.line,
      raw: this.raw,
      text: this.text,
    };
    return c === undefined ? base : { ...base, counters: c };
  }
}

/** Targets most rules end with: returned as constants, so reading a leak's targets makes no strings. */
const COMMON_TARGETS = ["ACCEPT", "DROP", "RETURN", "REJECT", "DNAT", "SNAT", "MASQUERADE", "MARK", "LOG"];

function commonTarget(b: Uint8Array, start: number, end: number): string | undefined {
  for (const t of COMMON_TARGETS) {
    if (t.length !== end - start) continue;
    let k = 0;
    while (k < t.length && b[start + k] === t.charCodeAt(k)) k++;
    if (k === t.length) return t;
  }
  return undefined;
}

/** {@linkcode RuleView.target} on a string, skipping ` -j ` / ` -g ` inside double-quoted parts. */
export function targetOfText(text: string): string | undefined {
  const ranges: number[] = [];
  for (let i = text.indexOf('"'); i >= 0; ) {
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
    ranges.push(i, j);
    i = j + 1 < text.length ? text.indexOf('"', j + 1) : -1;
  }
  const inside = (pos: number): boolean => {
    for (let k = 0; k < ranges.length; k += 2) if (pos > ranges[k]! && pos < ranges[k + 1]!) return true;
    return false;
  };
  let j = Math.max(text.lastIndexOf(" -j "), text.lastIndexOf(" -g "));
  while (j >= 0 && inside(j)) j = Math.max(text.lastIndexOf(" -j ", j - 1), text.lastIndexOf(" -g ", j - 1));
  if (j < 0) return undefined;
  const end = text.indexOf(" ", j + 4);
  return text.slice(j + 4, end < 0 ? undefined : end);
}
