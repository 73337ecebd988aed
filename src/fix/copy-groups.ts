/**
 * The groups a plan files its copies into while it walks the chains: removed copies by the rule and
 * the copy that makes them redundant, copies that stay by the rule and the reason (internal to
 * plan-duplicates.ts).
 */
import type { Chain, RuleAccess, Table } from "../model/ruleset.ts";
import { type RuleOwner, ruleOwner } from "../scan/rule-owner.ts";
import type { ChainAnalyzer } from "./chain-analyzer.ts";
import { CopyRuns } from "./copy-runs.ts";
import { decideCopy } from "./decide-copy.ts";
import type { CopyRun, KeptGroup, RemovedGroup } from "./duplicate-plan.ts";

/** A group's count and runs once every chain is planned. */
export function done(runs: CopyRuns): { count: number; runs: readonly CopyRun[] } {
  return { count: runs.count, runs: runs.runs };
}

/** A group of copies being filled: what it says, and its copies so far. */
export interface Filling<G> {
  readonly group: Omit<G, "count" | "runs">;
  readonly runs: CopyRuns;
}

/** What the chains of a plan add up to: the groups of removed and kept copies, counts by owner. */
export interface PlanTotals {
  readonly removedGroups: Map<string, Filling<RemovedGroup>>;
  readonly keptGroups: Map<string, Filling<KeptGroup>>;
  readonly removedByOwner: Partial<Record<RuleOwner, number>>;
  copies: number;
}

/** Decides copy `at` of `text` against its nearest staying copy; the decision goes into `st`. */
export function decide(
  st: TextState,
  c: {
    readonly table: Table;
    readonly chain: Chain;
    readonly text: string;
    readonly analyzer: ChainAnalyzer;
    readonly acc: PlanTotals;
    readonly rules: RuleAccess;
    readonly at: number;
    readonly between: number;
    readonly lastWrite: Int32Array;
  },
): void {
  const kept = c.rules.at(st.kept);
  const d = decideCopy(c.analyzer, {
    rule: c.rules.at(c.at),
    kept,
    between: c.between,
    lastWrite: c.lastWrite,
    lineAt: c.rules.lineAt,
  });
  const owner = ruleOwner(c.chain.name, c.text);
  const at = { table: c.table.name, chain: c.chain.name, rule: c.text, owner };
  // Removed copies are grouped by the copy that makes them redundant; copies that stay by their
  // reason only (a run of them, each the copy of the one before, is one group of copies of the first).
  let runs: CopyRuns | undefined;
  if (d.remove) {
    const key = `${c.table.name}\0${c.text}\0${kept.line}\0${d.reason}`;
    runs = c.acc.removedGroups.get(key)?.runs;
    if (runs === undefined) {
      runs = new CopyRuns();
      c.acc.removedGroups.set(key, { group: { ...at, keptLine: kept.line, reason: d.reason }, runs });
    }
  } else {
    const key = `${c.table.name}\0${c.text}\0${d.reason}`;
    runs = c.acc.keptGroups.get(key)?.runs;
    if (runs === undefined) {
      runs = new CopyRuns();
      c.acc.keptGroups.set(key, { group: { ...at, copyOfLine: kept.line, reason: d.reason }, runs });
    }
  }
  st.prev = st.kept;
  st.between = c.between;
  st.remove = d.remove;
  st.runs = runs;
  st.owner = owner;
}

/** What the planner remembers about one distinct rule text of a chain. */
export interface TextState {
  /** Index of the nearest copy that stays. */
  kept: number;
  /** The reference copy and in-between writes of the last decision (-1: none yet). */
  prev: number;
  between: number;
  remove: boolean;
  /** The group the last decision went to. */
  runs: CopyRuns | undefined;
  owner: RuleOwner;
}
