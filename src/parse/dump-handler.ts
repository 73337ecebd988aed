/** The callbacks and options of {@linkcode DumpReader}, and what it hands them. */
import type { Counters, ParseWarning, TableName } from "../model/ruleset.ts";
import type { ChainView } from "./chain-view.ts";
import type { RuleLine, RuleView } from "./rule-view.ts";

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
  /**
   * With `table`: a rule of a chain nothing declared declares it (bare `-A` lines, a grepped chain).
   * Without it such a rule is an error, as in iptables-save output.
   */
  readonly implicitChains?: boolean;
}
