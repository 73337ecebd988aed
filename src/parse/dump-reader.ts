import type { Counters, DumpHeader, ParseWarning, TableName } from "../model/ruleset.ts";
import { BUILTIN_CHAINS, TABLE_NAMES } from "../model/ruleset.ts";
import { ChainIndex } from "./chain-index.ts";
import { ChainView, ZERO_COUNTERS as ZERO } from "./chain-view.ts";
import { clip, parseGeneratedLine, splitSCounters } from "./dump-header.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { decodeBytes, type RuleLine, RuleView } from "./rule-view.ts";

export { ChainView } from "./chain-view.ts";
export type { RuleLine } from "./rule-view.ts";
export { RuleView } from "./rule-view.ts";

/** The longest line accepted: iptables caps comments at 256 bytes, so anything this long is not a dump. */
export const MAX_LINE_LENGTH = 1024 * 1024;

/** A chain declaration as read. */
export interface ChainDeclaration {
  readonly table: TableName;
  readonly name: string;
  readonly policy?: "ACCEPT" | "DROP";
  readonly counters: Counters;
  readonly line: number;
  readonly builtin: boolean;
}

/** Callbacks of {@linkcode DumpReader}; all optional. */
export interface DumpHandler {
  table?(name: TableName, line: number): void;
  /** Every declaration, in order: the k-th of a table is the chain a {@linkcode RuleView} calls `chainId` k. */
  chain?(decl: ChainDeclaration): void;
  /** Every declaration as the reader's reused {@linkcode ChainView} (name made on demand); called instead of `chain`. */
  chainView?(view: ChainView): void;
  /** Every rule as an immutable {@linkcode RuleLine}: easy, but it makes the rule's strings. */
  rule?(rule: RuleLine): void;
  /**
   * Every rule as the reader's reused {@linkcode RuleView}: nothing is allocated unless the handler
   * asks for text. When present it is called instead of `rule`. A million-rule dump should be read
   * through this (see {@linkcode composeHandlers} to feed several handlers in one pass).
   */
  ruleView?(view: RuleView): void;
  /** The end of a table (its COMMIT, or the end of `iptables -S` input), with its number of chains. */
  commit?(table: TableName, line: number, chains: number): void;
  warning?(warning: ParseWarning): void;
}

/** Options of {@linkcode DumpReader}. */
export interface DumpReaderOptions {
  /**
   * Table for `iptables -S` / `iptables -t nat -S` output (`-P`, `-N`, `-A` lines with no `*table`).
   * Without it such input is read only when it starts with `-P` lines, as the filter table.
   */
  readonly table?: TableName;
}

const CHAIN_DECL = /^:(\S+) (\S+)(?: \[(\d+):(\d+)\])?\s*$/;
const DIGITS = /^\d+$/;
/** ` -c PKTS BYTES` that `iptables -S -v` puts before `-j`. */
const S_COUNTERS = / -c (\d+) (\d+)(?= |$)/;
const COUNTER_PREFIX = /^\[(\d+):(\d+)\] /;
/** First lines of `nft list ruleset` output and of `nft -f` scripts (kube-proxy's nftables mode). */
const NFT_LINE =
  /^\s*(?:table (?:ip|ip6|inet|arp|bridge|netdev) \S+ \{|chain \S+ \{|flush ruleset|(?:add|create|insert|delete|flush) (?:table|chain|rule|set|map|element) )/;
const NFT_MESSAGE =
  "this is nftables output (`nft list ruleset` or an `nft -f` script), not iptables-save output: run `iptables-save` (or `iptables-nft-save`) on the node instead";
/**
 * Signs of binary data in a line: control characters other than tab and CR, and U+FFFD (bytes that
 * were not UTF-8). Real iptables-save output can hold any of them except NUL inside a quoted comment
 * (`iptables -m comment --comment "$(printf '\033[31m')"` is saved as is), so they are data in a rule;
 * only NUL, which a C string cannot hold, marks a whole input as binary. In a line that is not
 * iptables-save syntax anyway they explain the error better than "unexpected text".
 */
const BINARY_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/;

const USER_CHAIN = { builtin: false, policy: undefined, counters: ZERO } as const;
/** ` - [0:0]`: the end of a user chain's declaration. */
const USER_DECL_TAIL = [32, 45, 32, 91, 48, 58, 48, 93];

/**
 * Where the text of a `[packets:bytes] -A ...` line starts, or -1 when the prefix is not exactly
 * that (the line is then read as text, which also words the error).
 */
function counterPrefixEnd(b: Uint8Array, start: number, end: number): number {
  let i = start + 1;
  const digits = (): boolean => {
    const from = i;
    while (i < end && b[i]! >= 48 && b[i]! <= 57) i++;
    return i > from;
  };
  if (!digits() || b[i] !== 58 /* : */) return -1;
  i++;
  if (!digits() || b[i] !== 93 /* ] */ || b[i + 1] !== 32) return -1;
  i += 2;
  return b[i] === 45 && b[i + 1] === 65 && b[i + 2] === 32 ? i : -1;
}

/**
 * A streaming reader of `iptables-save` output: feed it chunks of bytes (or text) with
 * {@linkcode DumpReader.push}, then call {@linkcode DumpReader.end}. It checks the structure (tables,
 * declarations, COMMIT) and hands each line to the handler, so a million-rule dump is read in
 * bounded memory and in one pass.
 *
 * Rule lines are read on their bytes: the line end is found with `indexOf(10)`, the chain by the
 * bytes of its name ({@linkcode ChainIndex}), and the handler gets a reused {@linkcode RuleView}; no
 * string is made for a rule unless a handler asks for one. Every other line (declarations, comments,
 * `iptables -S` input, anything wrong) is decoded and read as text. Chunks may end anywhere, also
 * inside a line or a UTF-8 character. A handler may keep `view.bytes`: the reader never writes into
 * a chunk it was given.
 *
 * @example
 * ```ts
 * let rules = 0;
 * const reader = new DumpReader({ ruleView: () => { rules++; } });
 * reader.push("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n");
 * reader.end(); // rules === 1
 * ```
 */
export class DumpReader {
  readonly #handler: DumpHandler;
  readonly #onView: ((view: RuleView) => void) | undefined;
  readonly #onRule: ((rule: RuleLine) => void) | undefined;
  readonly #onChain: ((decl: ChainDeclaration) => void) | undefined;
  readonly #onChainView: ((view: ChainView) => void) | undefined;
  readonly #chainView = new ChainView();
  readonly #sTable: TableName | undefined;
  readonly #view = new RuleView();
  #encoder: TextEncoder | undefined;
  /** A high surrogate that ended a text chunk, waiting for its pair. */
  #highSurrogate = "";
  /** Sequence number of the bytes being read (see {@linkcode RuleView.chunk}). */
  #chunk = 0;
  #carry: Uint8Array = new Uint8Array(0);
  #carryLen = 0;
  #lineNo = 0;
  #table: TableName | undefined;
  #tableLine = 0;
  /** Declared chains of the current table with their rule counts so far. */
  #chains = new ChainIndex();
  /** Position of the chain of the last rule, or -1. */
  #last = -1;
  /** The chain of the last rule in another chain than `#last`, or -1. */
  #beforeLast = -1;
  #seenTables = new Set<TableName>();
  #sawContent = false;
  #sawComment = false;
  #sawLegacyNotice = false;
  #sawCR = false;
  #sMode = false;
  #header: DumpHeader = { backend: "unknown" };
  #ruleCount = 0;

  constructor(handler: DumpHandler, options: DumpReaderOptions = {}) {
    this.#handler = handler;
    this.#onView = handler.ruleView?.bind(handler);
    this.#onRule = handler.rule?.bind(handler);
    this.#onChain = handler.chain?.bind(handler);
    this.#onChainView = handler.chainView?.bind(handler);
    this.#sTable = options.table;
  }

  /** What the `# Generated by` line said (complete after {@linkcode DumpReader.end}). */
  get header(): DumpHeader {
    return this.#header;
  }

  /** Number of `-A` lines read so far. */
  get ruleCount(): number {
    return this.#ruleCount;
  }

  /** Number of lines read so far. */
  get lineCount(): number {
    return this.#lineNo;
  }

  /** Reads a chunk of UTF-8 bytes or of text; lines (and characters) may span chunks. */
  push(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? this.#encode(chunk) : chunk;
    let p = 0;
    if (this.#carryLen > 0) {
      const nl = bytes.indexOf(10);
      if (nl < 0) {
        this.#appendCarry(bytes, 0, bytes.length);
        return;
      }
      // The line is copied out: the chunks it spans may be reused by the caller.
      const line = new Uint8Array(this.#carryLen + nl + 1);
      line.set(this.#carry.subarray(0, this.#carryLen));
      line.set(bytes.subarray(0, nl + 1), this.#carryLen);
      this.#carryLen = 0;
      this.#chunk++;
      this.#checkNul(line, 0);
      this.#lineAt(line, 0, line.length - 1);
      p = nl + 1;
    }
    this.#chunk++;
    // NUL is searched like any single byte (memchr speed) before the chunk's lines are read.
    this.#checkNul(bytes, p);
    const n = bytes.length;
    while (p < n) {
      const nl = bytes.indexOf(10, p);
      if (nl < 0) {
        this.#appendCarry(bytes, p, n);
        return;
      }
      this.#lineAt(bytes, p, nl);
      p = nl + 1;
    }
  }

  /** Finishes reading.
   * @throws {DumpSyntaxError} When the input is empty or a table has no COMMIT. */
  end(): void {
    if (this.#highSurrogate !== "") this.push("");
    if (this.#carryLen > 0) {
      const last = this.#carry.slice(0, this.#carryLen);
      this.#carryLen = 0;
      this.#chunk++;
      this.#checkNul(last, 0);
      this.#lineAt(last, 0, last.length);
    }
    if (this.#sMode && this.#table !== undefined) {
      this.#handler.commit?.(this.#table, this.#lineNo, this.#chains.size);
      this.#table = undefined;
    }
    if (this.#table !== undefined) {
      throw new DumpSyntaxError(
        `Cannot parse dump at line ${this.#lineNo}: table "${this.#table}" opened at line ${this.#tableLine} has no COMMIT (is the file truncated?)`,
        { line: this.#lineNo, column: 1 },
      );
    }
    if (!this.#sawContent) {
      const detail = this.#sawComment
        ? "the input has comments but no tables (iptables-save printed no table: are any loaded, or are they in the other backend?)"
        : "the input is empty (no tables); iptables-save prints nothing when it fails, check its stderr";
      throw new DumpSyntaxError(`Cannot parse dump: ${detail}`, {
        line: Math.max(this.#lineNo, 1),
        column: 1,
      });
    }
  }

  /** UTF-8 of a text chunk; a surrogate pair cut by the chunk border is joined first. */
  #encode(chunk: string): Uint8Array {
    let text = this.#highSurrogate + chunk;
    this.#highSurrogate = "";
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff && chunk !== "") {
      this.#highSurrogate = text.slice(-1);
      text = text.slice(0, -1);
    }
    this.#encoder ??= new TextEncoder();
    return this.#encoder.encode(text);
  }

  #appendCarry(bytes: Uint8Array, from: number, to: number): void {
    const len = this.#carryLen + to - from;
    if (len > this.#carry.length) {
      const grown = new Uint8Array(Math.max(len, this.#carry.length * 2, 256));
      grown.set(this.#carry.subarray(0, this.#carryLen));
      this.#carry = grown;
    }
    this.#carry.set(bytes.subarray(from, to), this.#carryLen);
    this.#carryLen = len;
    if (len > MAX_LINE_LENGTH) this.#tooLong(this.#lineNo + 1);
  }

  #tooLong(line: number): never {
    throw new DumpSyntaxError(
      `Cannot parse dump at line ${line}: the line is longer than ${MAX_LINE_LENGTH} characters; this is not iptables-save output`,
      { line, column: MAX_LINE_LENGTH + 1 },
    );
  }

  /** Fails for the line holding a NUL byte at or after `from`, naming that line's first sign of binary data. */
  #checkNul(bytes: Uint8Array, from: number): void {
    const at = bytes.indexOf(0, from);
    if (at < 0) return;
    let line = this.#lineNo + 1;
    let lineStart = from;
    for (let k = bytes.indexOf(10, from); k >= 0 && k < at; k = bytes.indexOf(10, k + 1)) {
      line++;
      lineStart = k + 1;
    }
    const text = decodeBytes(bytes, lineStart, at + 1);
    const first = BINARY_CHAR.exec(text);
    const col = first === null ? text.length - 1 : first.index;
    this.#failBinary(line, col, text.charCodeAt(col));
  }

  #failBinary(line: number, index: number, code: number): never {
    const hex = code.toString(16).padStart(code > 0xff ? 4 : 2, "0");
    throw new DumpSyntaxError(
      `Cannot parse dump at line ${line}: binary data (${code > 0xff ? "character U+" : "byte 0x"}${hex}) found; this is not iptables-save text`,
      { line, column: index + 1 },
    );
  }

  /** Fails for a line that is not iptables-save syntax: as binary data when it looks like it. */
  #failSyntax(line: string, detail: string, column = 1): never {
    const bad = BINARY_CHAR.exec(line);
    if (bad !== null) this.#failBinary(this.#lineNo, bad.index, line.charCodeAt(bad.index));
    this.#fail(detail, column);
  }

  #fail(detail: string, column = 1): never {
    throw new DumpSyntaxError(`Cannot parse dump at line ${this.#lineNo}: ${detail}`, {
      line: this.#lineNo,
      column,
    });
  }

  /** One line, `bytes[start..stop)` without its LF. Rules of an iptables-save table stay bytes. */
  #lineAt(bytes: Uint8Array, start: number, stop: number): void {
    const lineNo = ++this.#lineNo;
    if (stop - start > MAX_LINE_LENGTH) this.#tooLong(lineNo);
    let end = stop;
    if (end > start && bytes[end - 1] === 13) {
      end--;
      if (!this.#sawCR) {
        this.#sawCR = true;
        this.#handler.warning?.({
          line: lineNo,
          text: decodeBytes(bytes, start, end),
          reason: "The dump has CRLF (Windows) line endings; they were read as LF",
          kind: "format",
        });
      }
    }
    const c = bytes[start];
    if (this.#table !== undefined && !this.#sMode) {
      if (c === 45 /* - */ && bytes[start + 1] === 65 /* A */ && bytes[start + 2] === 32) {
        if (this.#ruleBytes(bytes, start, start, end)) return;
      } else if (c === 91 /* [ */) {
        const text = counterPrefixEnd(bytes, start, end);
        if (text > 0 && this.#ruleBytes(bytes, start, text, end)) return;
      } else if (c === 58 /* : */ && this.#userChainBytes(bytes, start, end)) {
        return;
      }
    }
    this.#line(decodeBytes(bytes, start, end), bytes, start, end);
  }

  /**
   * A rule of an iptables-save table read on its bytes. Returns false, having changed nothing, when
   * its chain is not declared (the text path words the error).
   */
  #ruleBytes(bytes: Uint8Array, rawStart: number, start: number, end: number): boolean {
    const chains = this.#chains;
    const nameStart = start + 3;
    let pos = this.#last;
    if (pos < 0 || !chains.isAt(pos, bytes, nameStart, end)) {
      // Before hashing the name, a few byte compares that usually hit: iptables-save prints the
      // chains' rules in declaration order, so the next chain is one of the next few declared, and
      // kube-proxy writes a Service's SVC rules and its endpoints' SEP rules (declared right after
      // it) back and forth, so it is the chain before the last one or one of the next few.
      const before = this.#beforeLast;
      pos = before >= 0 && chains.isAt(before, bytes, nameStart, end) ? before : -1;
      const last = this.#last;
      for (let k = last + 1, stop = Math.min(last + 5, chains.size); pos < 0 && k < stop; k++) {
        if (chains.isAt(k, bytes, nameStart, end)) pos = k;
      }
      if (pos < 0) {
        let sp = nameStart;
        while (sp < end && bytes[sp] !== 32) sp++;
        pos = chains.findBytes(bytes, nameStart, sp);
        if (pos < 0) return false;
      }
      this.#beforeLast = this.#last;
      this.#last = pos;
    }
    this.#deliver(this.#emit(pos, bytes, rawStart, start, end));
    return true;
  }

  /**
   * The common declaration `:NAME - [0:0]` of a user chain (kube-proxy writes hundreds of thousands)
   * read on its bytes: the name becomes a string only if a handler takes declarations. Returns false,
   * having changed nothing, for anything else (read as text, which also words errors).
   */
  #userChainBytes(bytes: Uint8Array, start: number, end: number): boolean {
    const nameEnd = end - 8;
    if (nameEnd <= start + 1) return false;
    for (let i = 0; i < 8; i++) if (bytes[nameEnd + i] !== USER_DECL_TAIL[i]) return false;
    for (let i = start + 1; i < nameEnd; i++) if (bytes[i] === 32 || bytes[i] === 9) return false;
    const table = this.#table!;
    const builtins = BUILTIN_CHAINS[table];
    // A built-in chain with policy "-" is an error; built-in names are at most 11 bytes.
    if (nameEnd - start <= 12 && builtins.includes(decodeBytes(bytes, start + 1, nameEnd))) return false;
    const chains = this.#chains;
    if (!chains.declareBytes(bytes, start + 1, nameEnd)) return false;
    this.#declared(this.#lineNo, USER_CHAIN);
    return true;
  }

  /** Hands the chain declared last to the handler, as a view or as a declaration object. */
  #declared(
    line: number,
    decl: { builtin: boolean; policy: "ACCEPT" | "DROP" | undefined; counters: Counters },
  ): void {
    const v = this.#chainView;
    if (this.#onChainView !== undefined || this.#onChain !== undefined) {
      v.set(this.#table!, this.#chains, this.#chains.size - 1, line, decl);
    }
    if (this.#onChainView !== undefined) this.#onChainView(v);
    else if (this.#onChain !== undefined) this.#onChain(v.toDeclaration());
  }

  #emit(pos: number, bytes: Uint8Array, rawStart: number, start: number, end: number): RuleView {
    const index = this.#chains.next(pos);
    this.#ruleCount++;
    const v = this.#view;
    v.set(this.#table!, this.#chains, pos, index, this.#lineNo, bytes, this.#chunk, rawStart, start, end);
    return v;
  }

  #deliver(v: RuleView): void {
    if (this.#onView !== undefined) this.#onView(v);
    else if (this.#onRule !== undefined) this.#onRule(v.toRuleLine());
  }

  /** Every line that is not a plain rule of an iptables-save table, as text. */
  #line(line: string, bytes: Uint8Array, start: number, end: number): void {
    const lineNo = this.#lineNo;
    const c = line.charCodeAt(0);
    if (c === 45 /* - */ && line.charCodeAt(1) === 65 /* A */ && line.charCodeAt(2) === 32) {
      this.#rule(line, line, undefined, bytes, start, start, end);
      return;
    }
    if (c === 91 /* [ */) {
      const m = COUNTER_PREFIX.exec(line);
      if (m === null)
        this.#failSyntax(line, `expected a "[packets:bytes]" counter prefix, found "${clip(line)}"`);
      const text = line.slice(m[0].length);
      if (!text.startsWith("-A "))
        this.#fail(`expected "-A" after the counter prefix, found "${clip(text)}"`, m[0].length + 1);
      // The prefix is ASCII: its length in characters is its length in bytes.
      const counters = { packets: m[1]!, bytes: m[2]! };
      this.#rule(line, text, counters, bytes, start, start + m[0].length, end);
      return;
    }
    if (c === 35 /* # */) {
      this.#comment(line, lineNo);
      return;
    }
    if (c === 58 /* : */) {
      this.#chainDecl(line, lineNo);
      return;
    }
    if (c === 42 /* * */) {
      this.#openTable(line.slice(1).trim(), lineNo);
      return;
    }
    if (line === "COMMIT") {
      if (this.#table === undefined) this.#fail("COMMIT outside a table");
      this.#handler.commit?.(this.#table, lineNo, this.#chains.size);
      this.#table = undefined;
      return;
    }
    if (line.trim() === "") return;
    if (c === 45 && (line.startsWith("-P ") || line.startsWith("-N "))) {
      this.#sLine(line, lineNo);
      return;
    }
    if (NFT_LINE.test(line)) this.#fail(NFT_MESSAGE);
    if (line.startsWith("-A") || line.startsWith("-I ")) {
      this.#failSyntax(line, `expected "-A CHAIN ...", found "${clip(line)}"`);
    }
    this.#failSyntax(line, `unexpected text "${clip(line)}"`);
  }

  #comment(line: string, lineNo: number): void {
    this.#sawComment = true;
    if (line.startsWith("# Generated by ")) {
      if (this.#header.line === undefined) {
        this.#header = parseGeneratedLine(line, lineNo, this.#sawLegacyNotice) ?? this.#header;
      }
      return;
    }
    if (line.startsWith("# Completed on ")) return;
    if (/^# Warning: table \S+ \S+ is managed by iptables-nft/.test(line)) this.#fail(NFT_MESSAGE);
    if (/warning|incompatible|error|fatal/i.test(line)) {
      if (/iptables-legacy tables present/.test(line)) {
        this.#sawLegacyNotice = true;
        if (this.#header.backend === "unknown") this.#header = { ...this.#header, backend: "nf_tables" };
      }
      this.#handler.warning?.({
        line: lineNo,
        text: line,
        reason: "iptables printed this message",
        kind: "notice",
      });
    }
  }

  #openTable(name: string, lineNo: number): void {
    if (this.#table !== undefined) {
      if (this.#sMode) {
        this.#fail(`unexpected table header "*${name}" in \`iptables -S\` output`);
      }
      this.#fail(`table "${this.#table}" opened at line ${this.#tableLine} has no COMMIT before "*${name}"`);
    }
    if (!(TABLE_NAMES as readonly string[]).includes(name)) {
      const bad = BINARY_CHAR.exec(name);
      if (bad !== null) this.#failBinary(lineNo, bad.index + 1, name.charCodeAt(bad.index));
      this.#fail(`unknown table "${clip(name)}" (expected one of ${TABLE_NAMES.join(", ")})`, 2);
    }
    const table = name as TableName;
    if (this.#seenTables.has(table)) this.#fail(`table "${table}" appears twice`, 2);
    this.#seenTables.add(table);
    this.#table = table;
    this.#tableLine = lineNo;
    this.#resetChains();
    this.#sawContent = true;
    this.#handler.table?.(table, lineNo);
  }

  #resetChains(): void {
    this.#chains = new ChainIndex();
    this.#last = -1;
    this.#beforeLast = -1;
  }

  #chainDecl(line: string, lineNo: number): void {
    const table = this.#table;
    if (table === undefined)
      this.#fail(`chain declaration "${clip(line)}" outside a table (no "*table" line before it)`);
    // Fast path for the common user-chain form `:NAME - [0:0]` (kube-proxy writes hundreds of thousands).
    const userEnd = line.length - 8;
    const fast =
      userEnd > 1 && line.endsWith(" - [0:0]") && line.indexOf(" ") === userEnd && line.indexOf("\t") < 0;
    const m = fast ? null : CHAIN_DECL.exec(line);
    if (!fast && m === null)
      this.#failSyntax(line, `expected ":CHAIN POLICY [packets:bytes]", found "${clip(line)}"`);
    const name = fast ? line.slice(1, userEnd) : m![1]!;
    const policyWord = fast ? "-" : m![2]!;
    const builtin = BUILTIN_CHAINS[table].includes(name);
    let policy: "ACCEPT" | "DROP" | undefined;
    if (builtin) {
      if (policyWord !== "ACCEPT" && policyWord !== "DROP") {
        this.#fail(
          `built-in chain "${name}" has policy "${policyWord}" (expected ACCEPT or DROP)`,
          name.length + 3,
        );
      }
      policy = policyWord;
    } else if (policyWord !== "-") {
      this.#fail(`user chain "${name}" has policy "${policyWord}" (expected "-")`, name.length + 3);
    }
    if (!this.#chains.declare(name)) this.#fail(`chain "${name}" is declared twice in table "${table}"`, 2);
    const counters = m === null || m[3] === undefined ? ZERO : { packets: m[3], bytes: m[4]! };
    this.#declared(lineNo, { builtin, policy, counters });
  }

  /**
   * A rule read as text: `iptables -S` input (implied table and built-in chains, `-c P B` counters
   * inside the rule), or a line the byte path could not place (the error is worded here).
   */
  #rule(
    raw: string,
    ruleText: string,
    ruleCounters: Counters | undefined,
    bytes: Uint8Array,
    rawStart: number,
    start: number,
    end: number,
  ): void {
    const lineNo = this.#lineNo;
    let text = ruleText;
    let counters = ruleCounters;
    let table = this.#table;
    if (table === undefined) {
      if (this.#sTable !== undefined) {
        this.#startSMode(lineNo);
        table = this.#table!;
      } else {
        this.#fail(
          'rule outside a table (no "*table" line before it); for `iptables -S` output pass the table (--table nat)',
        );
      }
    }
    let split = false;
    if (this.#sMode && counters === undefined && S_COUNTERS.test(text)) {
      const s = splitSCounters(text, lineNo);
      if (s !== undefined) {
        text = s.text;
        counters = s.counters;
        split = true;
      }
    }
    const sp = text.indexOf(" ", 3);
    const name = sp < 0 ? text.slice(3) : text.slice(3, sp);
    let pos = this.#chains.find(name);
    if (pos < 0) {
      if (!this.#sMode || !BUILTIN_CHAINS[table].includes(name)) {
        this.#fail(
          `rule for chain "${name}", which is not declared in table "${table}"`,
          raw.indexOf("-A ") + 4,
        );
      }
      this.#declareImplicit(name, lineNo);
      pos = this.#chains.find(name);
    }
    this.#last = pos;
    if (!split) {
      this.#deliver(this.#emit(pos, bytes, rawStart, start, end));
      return;
    }
    this.#encoder ??= new TextEncoder();
    const own = this.#encoder.encode(text);
    this.#chunk++;
    const v = this.#emit(pos, own, 0, 0, own.length);
    v.setSplit(raw, counters);
    this.#deliver(v);
  }

  #startSMode(lineNo: number): void {
    const table = this.#sTable ?? "filter";
    if (this.#seenTables.size > 0) this.#fail("`iptables -S` lines after a table");
    this.#sMode = true;
    this.#table = table;
    this.#tableLine = lineNo;
    this.#seenTables.add(table);
    this.#sawContent = true;
    this.#handler.table?.(table, lineNo);
  }

  #declareImplicit(chain: string, lineNo: number): void {
    const builtin = BUILTIN_CHAINS[this.#table!].includes(chain);
    this.#chains.declare(chain);
    this.#declared(lineNo, { builtin, policy: builtin ? "ACCEPT" : undefined, counters: ZERO });
  }

  /** `-P CHAIN POLICY` and `-N CHAIN` from `iptables -S`. */
  #sLine(line: string, lineNo: number): void {
    if (!this.#sMode) {
      if (this.#table !== undefined)
        this.#fail(`"${clip(line)}" is \`iptables -S\` syntax inside an iptables-save table`);
      this.#startSMode(lineNo);
    }
    const parts = line.trim().split(/\s+/);
    const table = this.#table!;
    const name = parts[1] ?? "";
    if (name === "") this.#fail(`expected a chain name after "${parts[0]}"`);
    if (this.#chains.find(name) >= 0) this.#fail(`chain "${name}" is declared twice in table "${table}"`);
    if (parts[0] === "-P") {
      const policy = parts[2];
      // `iptables -S -v` adds the policy counters: `-P INPUT ACCEPT -c 10 840`.
      const withCounters =
        parts.length === 6 && parts[3] === "-c" && DIGITS.test(parts[4]!) && DIGITS.test(parts[5]!);
      if ((policy !== "ACCEPT" && policy !== "DROP") || (parts.length !== 3 && !withCounters)) {
        this.#fail(`expected "-P CHAIN ACCEPT|DROP", found "${clip(line)}"`);
      }
      if (!BUILTIN_CHAINS[table].includes(name))
        this.#fail(`"${name}" is not a built-in chain of table "${table}"`);
      this.#chains.declare(name);
      const counters = withCounters ? { packets: parts[4]!, bytes: parts[5]! } : ZERO;
      this.#declared(lineNo, { builtin: true, policy, counters });
      return;
    }
    if (parts.length !== 2) this.#fail(`expected "-N CHAIN", found "${clip(line)}"`);
    if (BUILTIN_CHAINS[table].includes(name))
      this.#fail(`"${name}" is a built-in chain of table "${table}": use -P`);
    this.#chains.declare(name);
    this.#declared(lineNo, USER_CHAIN);
  }
}
