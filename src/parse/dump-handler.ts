/** The callbacks and options of {@linkcode DumpReader}, and what it hands them. */
import type { Counters, ParseWarning, TableName } from "../model/ruleset.ts";
import type { ChainView } from "./chain-view.ts";
import type { RuleLine, RuleView } from "./rule-view.ts";

/** The longest line accepted: iptables caps comments at 256 bytes, so anything this long is not a dump. */
export const MAX_LINE_LENGTH = 1024 * 1024;

/** The most rules a repeated block may have (see {@linkcode DumpHandler.repeatRules}). */
export const REPEAT_WINDOW = 4096;

/** A block of rules read last that repeats byte for byte (see {@linkcode DumpHandler.repeatRules}). */
export interface RuleBlock {
  /** Rules in the block: the last `rules` rules handed to the handler, at most {@linkcode REPEAT_WINDOW}. */
  readonly rules: number;
  /** Copies of the block that follow it right away. */
  readonly times: number;
  /** Line number of the first rule of the first copy (the copies' lines follow one another). */
  readonly firstLine: number;
  /** The chain (`chainId`) of each rule of the block, in order (valid during the call). */
  readonly chains: Int32Array;
}

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
  /**
   * A leak's repeated block: the last `block.rules` rules this handler was given (one table, lines
   * next to each other, each read on its bytes) are written again `block.times` times right after,
   * byte for byte. Called instead of `ruleView` for each copy, and only when every handler of the
   * reader has it (see {@linkcode composeHandlers}): the handler accounts for the copies as if it had
   * read them (the k-th rule of each copy is the k-th rule of the block, `repeat` as that rule's).
   */
  repeatRules?(block: RuleBlock): void;
  /**
   * The reader is done with the chunk it was given last (`DumpReader.push` returns next):
   * a handler that has put off copying bytes of it copies them now, as the caller may reuse it.
   */
  chunkDone?(): void;
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
  /**
   * With `table`: a rule of a chain nothing declared declares it (bare `-A` lines, a grepped chain).
   * Without it such a rule is an error, as in iptables-save output.
   */
  readonly implicitChains?: boolean;
}
