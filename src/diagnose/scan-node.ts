import type { DumpHeader, ParseWarning, TableName } from "../model/ruleset.ts";
import type { DumpHandler, RuleLine } from "../parse/dump-reader.ts";
import { type RuleOwner, ruleOwner } from "./rule-owner.ts";

/** How many line numbers a duplicate group keeps as evidence. */
const SAMPLE_LINES = 5;

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

interface GroupAcc {
  count: number;
  lines: number[];
  chain: string;
}

/**
 * Accumulates the scan of one dump as it streams through a {@linkcode DumpReader}:
 * counts, and exact duplicates keyed by rule text, without keeping the rules.
 *
 * @example
 * ```ts
 * const scan = new NodeScanner();
 * const reader = new DumpReader(scan.handler);
 * reader.push(text); reader.end();
 * const result = scan.finish({ node: "w3", file: "w3.txt", header: reader.header });
 * ```
 */
export class NodeScanner {
  readonly #tables = new Map<TableName, TableCounts>();
  readonly #seen = new Map<TableName, Map<string, GroupAcc>>();
  readonly #warnings: ParseWarning[] = [];
  #rules = 0;
  #chains = 0;
  #current: Map<string, GroupAcc> | undefined;
  #currentCounts: TableCounts | undefined;

  readonly handler: DumpHandler = {
    table: (name) => {
      this.#currentCounts = { rules: 0, chains: 0 };
      this.#tables.set(name, this.#currentCounts);
      this.#current = new Map();
      this.#seen.set(name, this.#current);
    },
    chain: () => {
      this.#chains++;
      this.#currentCounts!.chains++;
    },
    rule: (rule: RuleLine) => {
      this.#rules++;
      this.#currentCounts!.rules++;
      const map = this.#current!;
      const acc = map.get(rule.text);
      if (acc === undefined) {
        map.set(rule.text, { count: 1, lines: [rule.line], chain: rule.chain });
      } else {
        acc.count++;
        if (acc.lines.length < SAMPLE_LINES) acc.lines.push(rule.line);
      }
    },
    warning: (w) => {
      this.#warnings.push(w);
    },
  };

  /** Builds the node's scan once the reader has ended. */
  finish(meta: { node: string; file: string; header: DumpHeader }): NodeScan {
    const groups: DuplicateGroup[] = [];
    const byOwner: Partial<Record<RuleOwner, number>> = {};
    let extraRules = 0;
    for (const [table, map] of this.#seen) {
      for (const [text, acc] of map) {
        if (acc.count < 2) continue;
        const owner = ruleOwner(acc.chain, text);
        groups.push({ table, chain: acc.chain, rule: text, count: acc.count, owner, lines: acc.lines });
        extraRules += acc.count - 1;
        byOwner[owner] = (byOwner[owner] ?? 0) + acc.count - 1;
      }
    }
    groups.sort((a, b) => b.count - a.count || a.lines[0]! - b.lines[0]!);
    return {
      node: meta.node,
      file: meta.file,
      header: meta.header,
      rules: this.#rules,
      chains: this.#chains,
      tables: Object.fromEntries(this.#tables),
      duplicates: { extraRules, byOwner, groups },
      warnings: this.#warnings,
    };
  }
}
