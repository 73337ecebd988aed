/**
 * The state of a {@linkcode DumpReader} and every line it reads as text: tables, declarations,
 * comments and the header, `iptables -S` input, and the wording of every error. Rules of an
 * iptables-save table go the byte path of the reader; both hand rules to the handler through
 * {@linkcode DumpLines.emit}. Internal to the reader.
 */
import type { Counters, DumpHeader, TableName } from "../model/ruleset.ts";
import { BUILTIN_CHAINS } from "../model/ruleset.ts";
import type { ChainIndex } from "./chain-index.ts";
import { ChainView } from "./chain-view.ts";
import type { ChainDeclaration, DumpHandler, DumpReaderOptions, RuleBlock } from "./dump-handler.ts";
import { clip, splitSCounters } from "./dump-header.ts";
import {
  BINARY_CHAR,
  chainDeclaration,
  commentLine,
  declareImplicit,
  NFT_MESSAGE,
  openTable,
  sLine,
  startSMode,
} from "./dump-structure.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { RepeatedBlocks } from "./repeated-blocks.ts";
import { RuleChains } from "./rule-chains.ts";
import { type RuleLine, RuleView } from "./rule-view.ts";

/** ` -c PKTS BYTES` that `iptables -S -v` puts before `-j`. */
const S_COUNTERS = / -c (\d+) (\d+)(?= |$)/;
const COUNTER_PREFIX = /^\[(\d+):(\d+)\] /;
/** First lines of `nft list ruleset` output and of `nft -f` scripts (kube-proxy's nftables mode). */
const NFT_LINE =
  /^\s*(?:table (?:ip|ip6|inet|arp|bridge|netdev) \S+ \{|chain \S+ \{|flush ruleset|(?:add|create|insert|delete|flush) (?:table|chain|rule|set|map|element) )/;

/** The reader's state, shared by its byte path and its text path. */
export class DumpLines {
  readonly handler: DumpHandler;
  readonly onView: ((view: RuleView) => void) | undefined;
  readonly onRule: ((rule: RuleLine) => void) | undefined;
  readonly onChain: ((decl: ChainDeclaration) => void) | undefined;
  readonly onChainView: ((view: ChainView) => void) | undefined;
  /** The handler's `repeatRules` (with its `ruleView`), and the runs of lines a repeated block is found in. */
  readonly onRepeat: ((block: RuleBlock) => void) | undefined;
  readonly repeats: RepeatedBlocks | undefined;
  readonly chainView = new ChainView();
  readonly sTable: TableName | undefined;
  readonly implicitChains: boolean;
  readonly view = new RuleView();
  encoder: TextEncoder | undefined;
  /** Sequence number of the bytes being read (see {@linkcode RuleView.chunk}). */
  chunk = 0;
  /** The bytes being read, 4 at a time (see {@linkcode RuleView.words}); set with each chunk. */
  words: DataView = new DataView(new ArrayBuffer(0));
  lineNo = 0;
  table: TableName | undefined;
  tableLine = 0;
  /** The chains of the current table, and how rules find theirs. */
  readonly ruleChains = new RuleChains();
  readonly seenTables = new Set<TableName>();
  sawContent = false;
  sawComment = false;
  sawLegacyNotice = false;
  sawCR = false;
  sMode = false;
  header: DumpHeader = { backend: "unknown" };
  ruleCount = 0;

  constructor(handler: DumpHandler, options: DumpReaderOptions) {
    this.handler = handler;
    this.onView = handler.ruleView?.bind(handler);
    this.onRule = handler.rule?.bind(handler);
    this.onChain = handler.chain?.bind(handler);
    this.onChainView = handler.chainView?.bind(handler);
    if (handler.ruleView !== undefined && handler.repeatRules !== undefined) {
      const repeat = handler.repeatRules.bind(handler);
      this.onRepeat = (block) => {
        const n = block.rules * block.times;
        this.lineNo += n;
        this.ruleCount += n;
        repeat(block);
      };
      this.repeats = new RepeatedBlocks();
    }
    this.sTable = options.table;
    this.implicitChains = options.implicitChains ?? false;
  }

  failBinary(line: number, index: number, code: number): never {
    const hex = code.toString(16).padStart(code > 0xff ? 4 : 2, "0");
    throw new DumpSyntaxError(
      `Cannot parse dump at line ${line}: binary data (${code > 0xff ? "character U+" : "byte 0x"}${hex}) found; this is not iptables-save text`,
      { line, column: index + 1 },
    );
  }

  /** Fails for a line that is not iptables-save syntax: as binary data when it looks like it. */
  failSyntax(line: string, detail: string, column = 1): never {
    const bad = BINARY_CHAR.exec(line);
    if (bad !== null) this.failBinary(this.lineNo, bad.index, line.charCodeAt(bad.index));
    this.fail(detail, column);
  }

  fail(detail: string, column = 1): never {
    throw new DumpSyntaxError(`Cannot parse dump at line ${this.lineNo}: ${detail}`, {
      line: this.lineNo,
      column,
    });
  }

  /** Hands the chain declared last to the handler, as a view or as a declaration object. */
  declared(
    line: number,
    decl: { builtin: boolean; policy: "ACCEPT" | "DROP" | undefined; counters: Counters },
  ): void {
    const v = this.chainView;
    if (this.onChainView !== undefined || this.onChain !== undefined) {
      v.set(this.table!, this.chains, this.chains.size - 1, line, decl);
    }
    if (this.onChainView !== undefined) this.onChainView(v);
    else if (this.onChain !== undefined) this.onChain(v.toDeclaration());
  }

  emit(pos: number, bytes: Uint8Array, rawStart: number, start: number, end: number): RuleView {
    const index = this.chains.next(pos);
    this.ruleCount++;
    const v = this.view;
    v.set(this.table!, this.chains, pos, index, this.lineNo, bytes, this.chunk, rawStart, start, end);
    v.words = this.words;
    return v;
  }

  deliver(v: RuleView): void {
    if (this.onView !== undefined) this.onView(v);
    else if (this.onRule !== undefined) this.onRule(v.toRuleLine());
  }

  /** Every line that is not a plain rule of an iptables-save table, as text. */
  line(line: string, bytes: Uint8Array, start: number, end: number): void {
    const lineNo = this.lineNo;
    const c = line.charCodeAt(0);
    if (c === 45 /* - */ && line.charCodeAt(1) === 65 /* A */ && line.charCodeAt(2) === 32) {
      this.rule(line, line, undefined, bytes, start, start, end);
      return;
    }
    if (c === 91 /* [ */) {
      const m = COUNTER_PREFIX.exec(line);
      if (m === null)
        this.failSyntax(line, `expected a "[packets:bytes]" counter prefix, found "${clip(line)}"`);
      const text = line.slice(m[0].length);
      if (!text.startsWith("-A "))
        this.fail(`expected "-A" after the counter prefix, found "${clip(text)}"`, m[0].length + 1);
      // The prefix is ASCII: its length in characters is its length in bytes.
      const counters = { packets: m[1]!, bytes: m[2]! };
      this.rule(line, text, counters, bytes, start, start + m[0].length, end);
      return;
    }
    if (c === 35 /* # */) {
      commentLine(this, line, lineNo);
      return;
    }
    if (c === 58 /* : */) {
      chainDeclaration(this, line, lineNo);
      return;
    }
    if (c === 42 /* * */) {
      openTable(this, line.slice(1).trim(), lineNo);
      return;
    }
    if (line === "COMMIT") {
      if (this.table === undefined) this.fail("COMMIT outside a table");
      this.handler.commit?.(this.table, lineNo, this.chains.size);
      this.table = undefined;
      return;
    }
    if (line.trim() === "") return;
    if (c === 45 && (line.startsWith("-P ") || line.startsWith("-N "))) {
      sLine(this, line, lineNo);
      return;
    }
    if (NFT_LINE.test(line)) this.fail(NFT_MESSAGE);
    if (line.startsWith("-A") || line.startsWith("-I ")) {
      this.failSyntax(line, `expected "-A CHAIN ...", found "${clip(line)}"`);
    }
    this.failSyntax(line, `unexpected text "${clip(line)}"`);
  }

  /** Declared chains of the current table with their rule counts so far. */
  get chains(): ChainIndex {
    return this.ruleChains.chains;
  }

  resetChains(): void {
    this.ruleChains.reset();
  }

  /**
   * A rule read as text: `iptables -S` input (implied table and built-in chains, `-c P B` counters
   * inside the rule), or a line the byte path could not place (the error is worded here).
   */
  rule(
    raw: string,
    ruleText: string,
    ruleCounters: Counters | undefined,
    bytes: Uint8Array,
    rawStart: number,
    start: number,
    end: number,
  ): void {
    const lineNo = this.lineNo;
    let text = ruleText;
    let counters = ruleCounters;
    let table = this.table;
    if (table === undefined) {
      if (this.sTable !== undefined) {
        startSMode(this, lineNo);
        table = this.table!;
      } else {
        this.fail(
          'rule outside a table (no "*table" line before it); for `iptables -S` output pass the table (--table nat)',
        );
      }
    }
    let split = false;
    if (this.sMode && counters === undefined && S_COUNTERS.test(text)) {
      const s = splitSCounters(text, lineNo);
      if (s !== undefined) {
        text = s.text;
        counters = s.counters;
        split = true;
      }
    }
    const sp = text.indexOf(" ", 3);
    const name = sp < 0 ? text.slice(3) : text.slice(3, sp);
    let pos = this.chains.find(name);
    if (pos < 0) {
      if (!this.sMode || !(this.implicitChains || BUILTIN_CHAINS[table].includes(name))) {
        this.fail(
          `rule for chain "${name}", which is not declared in table "${table}"`,
          raw.indexOf("-A ") + 4,
        );
      }
      declareImplicit(this, name, lineNo);
      pos = this.chains.find(name);
    }
    this.ruleChains.setLast(pos);
    // Read as text: the next rule of the chain is not compared with an older one.
    this.ruleChains.lastChunk[pos] = 0;
    if (!split) {
      this.deliver(this.emit(pos, bytes, rawStart, start, end));
      return;
    }
    this.encoder ??= new TextEncoder();
    const own = this.encoder.encode(text);
    this.chunk++;
    const v = this.emit(pos, own, 0, 0, own.length);
    v.words = new DataView(own.buffer, own.byteOffset, own.byteLength);
    v.setSplit(raw, counters);
    this.deliver(v);
  }

  /** The end of the input: closes `iptables -S` input's table and checks that something was read. */
  finish(): void {
    if (this.sMode && this.table !== undefined) {
      this.handler.commit?.(this.table, this.lineNo, this.chains.size);
      this.table = undefined;
    }
    if (this.table !== undefined) {
      throw new DumpSyntaxError(
        `Cannot parse dump at line ${this.lineNo}: table "${this.table}" opened at line ${this.tableLine} has no COMMIT (is the file truncated?)`,
        { line: this.lineNo, column: 1 },
      );
    }
    if (!this.sawContent) {
      const detail = this.sawComment
        ? "the input has comments but no tables (iptables-save printed no table: are any loaded, or are they in the other backend?)"
        : "the input is empty (no tables); iptables-save prints nothing when it fails, check its stderr";
      throw new DumpSyntaxError(`Cannot parse dump: ${detail}`, {
        line: Math.max(this.lineNo, 1),
        column: 1,
      });
    }
  }
}
