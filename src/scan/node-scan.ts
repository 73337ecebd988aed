/** What a scan of one node's dump reports (see {@linkcode NodeScanner}). */
import type { DumpHeader, ParseWarning, TableName } from "../model/ruleset.ts";
import type { RuleOwner } from "./rule-owner.ts";

/** Exact copies of one rule (same table, chain and text). */
export interface DuplicateGroup {
  readonly table: TableName;
  readonly chain: string;
  /** The rule text `-A CHAIN ...`. */
  readonly rule: string;
  readonly count: number;
  readonly owner: RuleOwner;
  /** The first few lines where the rule appears, first copy first. */
  readonly lines: readonly number[];
}

/** Rules (`-A` lines) and declared chains of one table. */
export interface TableCounts {
  rules: number;
  chains: number;
}

/** What `scan` reports for one node's dump. */
export interface NodeScan {
  readonly node: string;
  /** The dump's path as given, for evidence. */
  readonly file: string;
  readonly header: DumpHeader;
  /** Number of `-A` lines. */
  readonly rules: number;
  readonly chains: number;
  readonly tables: Partial<Record<TableName, TableCounts>>;
  readonly duplicates: {
    /** Sum over groups of (count - 1): the rules that could go. */
    readonly extraRules: number;
    readonly byOwner: Partial<Record<RuleOwner, number>>;
    /** Largest groups first. */
    readonly groups: readonly DuplicateGroup[];
  };
  readonly warnings: readonly ParseWarning[];
}
