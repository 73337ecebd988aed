/** The shape of a duplicate-removal plan ({@linkcode planDuplicates} in plan-duplicates.ts): groups, counts, options. */
import type { DumpHeader, TableName } from "../model/ruleset.ts";
import type { RuleOwner } from "../scan/rule-owner.ts";

/**
 * Copies that follow each other in their chain: the chain's `count` rules from line `first` to line
 * `last` (in kube-proxy's write order, other chains' rules sit between them in the dump). A leak
 * writes its copies back to back in their chain, so a million copies are a few runs.
 */
export interface CopyRun {
  readonly first: number;
  readonly last: number;
  readonly count: number;
}

/** Copies of one rule removed for the same reason. */
export interface RemovedGroup {
  readonly table: TableName;
  readonly chain: string;
  /** The rule text `-A CHAIN ...`. */
  readonly rule: string;
  readonly owner: RuleOwner;
  /** The line of the copy that stays and makes these redundant. */
  readonly keptLine: number;
  readonly reason: string;
  /** Number of removed copies. */
  readonly count: number;
  /** Every removed copy, as runs of consecutive rules of the chain, in order. */
  readonly runs: readonly CopyRun[];
}

/** Copies of one rule that must stay, for the same reason. */
export interface KeptGroup {
  readonly table: TableName;
  readonly chain: string;
  readonly rule: string;
  readonly owner: RuleOwner;
  /** The earlier copy these duplicate (the first that stays). */
  readonly copyOfLine: number;
  readonly reason: string;
  /** Number of copies that stay. */
  readonly count: number;
  /** The copies, as runs of consecutive rules of the chain, in order. */
  readonly runs: readonly CopyRun[];
}

/** Rule counts of a chain the plan changes. */
export interface ChainCounts {
  readonly chain: string;
  readonly builtin: boolean;
  readonly before: number;
  readonly after: number;
}

/** Rule counts of a table; `chains` lists only the chains the plan changes. */
export interface TableCounts {
  readonly table: TableName;
  readonly before: number;
  readonly after: number;
  readonly chains: readonly ChainCounts[];
}

/** The result of {@linkcode planDuplicates}. */
export interface DuplicatePlan {
  readonly header: DumpHeader;
  /** Rules before and after the plan. */
  readonly before: number;
  readonly after: number;
  /** Exact later copies in the dump (what `scan` reports as extraRules). */
  readonly copies: number;
  readonly removed: number;
  /** Copies that must stay (copies - removed). */
  readonly kept: number;
  /** Removed copies per owner of the rule. */
  readonly removedByOwner: Partial<Record<RuleOwner, number>>;
  readonly tables: readonly TableCounts[];
  /** Largest groups first. */
  readonly removedGroups: readonly RemovedGroup[];
  readonly keptGroups: readonly KeptGroup[];
}

/** Options of {@linkcode planDuplicates}. */
export interface PlanDuplicatesOptions {
  /** Plan only these tables (default: all). */
  readonly tables?: readonly TableName[];
  /**
   * The only chains that hold exact copies, per table, when a scan of the same dump already knows
   * them (the groups of {@linkcode NodeScan}): the other chains are then not read at all, which on a
   * million-rule dump leaves their rule objects unmade. A chain missing here is taken to have no copy.
   */
  readonly chainsWithCopies?: ReadonlyMap<TableName, ReadonlySet<string>>;
}
