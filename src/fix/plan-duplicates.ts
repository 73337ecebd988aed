/**
 * Which exact copies of a rule can be removed without changing what the ruleset does to any packet.
 *
 * Setting: chain C holds rules r0..rn in order; rj is an exact copy (same table, chain and text,
 * counters aside) of an earlier rule ri that stays. Packets enter a chain only at its start (a jump
 * or goto) and resume after a calling rule when a called chain returns, so every packet that reaches
 * rj has just been evaluated by ri and then by the rules B strictly between them. Removing rj is
 * safe when, for every such packet, rj either does not match or matches and changes nothing:
 *
 * 1. ri terminates every packet it matches (ACCEPT, DROP, REJECT, DNAT, SNAT, MASQUERADE, REDIRECT,
 *    NETMAP, RETURN, any goto, or a jump into a chain that never returns). A packet reaching rj did
 *    not match ri. If nothing in B can change the state rj's matches read (mark, connmark, conntrack,
 *    header bytes, ipsets, recent lists), it does not match rj either: rj is dead.
 *    "Regardless of what is between" is not enough: `-m mark --mark 1 -j ACCEPT`, then
 *    `-j MARK --set-mark 1`, then the same ACCEPT again accepts packets the first copy did not.
 * 2. ri's action is an idempotent overwrite (MARK --set-xmark V/M with V inside M, CONNMARK alike,
 *    CT/NOTRACK, DSCP, CLASSIFY) or a jump into a chain whose returning paths only do such
 *    overwrites and whose decisions read nothing it writes. A packet that did not match ri does not
 *    match rj (as in 1). A packet that matched ri had the overwrite applied; if B changes neither
 *    what rj reads nor what it writes, applying it again is a no-op.
 * 3. A rule without a target only counts packets: a copy changes nothing.
 *
 * Never removed: copies whose matches have per-evaluation state (statistic, limit, hashlimit,
 * connlimit, quota, recent, nfacct, rateest: each copy is an independent instance, so e.g. a second
 * `-m limit` ACCEPT accepts packets the first one's bucket refused), targets with side effects or
 * non-idempotent changes (LOG, NFLOG, NFQUEUE, AUDIT, TRACE, TEE, SET, MARK --xor-mark...), jumps into
 * chains that may return and whose second traversal can differ, and anything with an unknown module
 * or target. Each kept copy carries its reason.
 *
 * Copies are decided left to right against the nearest earlier copy that stays, on the chain as it is
 * after the removals so far; each removal preserves behaviour, so all of them together do. Rule
 * counters are not behaviour: a removed copy's counters are lost (a dead copy's are zero anyway).
 */

import {
  type Chain,
  chainLength,
  type Ruleset,
  ruleAccess,
  ruleRuns,
  type Table,
  type TableName,
} from "../model/ruleset.ts";
import { ChainAnalyzer } from "./chain-analyzer.ts";
import { decide, done, type PlanTotals, type TextState } from "./copy-groups.ts";
import { writesAfter } from "./decide-copy.ts";

import type {
  ChainCounts,
  CopyRun,
  DuplicatePlan,
  PlanDuplicatesOptions,
  TableCounts,
} from "./duplicate-plan.ts";

export type {
  ChainCounts,
  CopyRun,
  DuplicatePlan,
  KeptGroup,
  PlanDuplicatesOptions,
  RemovedGroup,
  TableCounts,
} from "./duplicate-plan.ts";

/**
 * Plans the removal of redundant exact copies in every chain of a ruleset. Pure: it reads the
 * ruleset and returns data; rendering and applying are separate.
 *
 * @example
 * ```ts
 * const plan = planDuplicates(parseDump(text, { lazy: true }));
 * plan.removed; // copies that can go
 * ```
 */
export function planDuplicates(ruleset: Ruleset, options: PlanDuplicatesOptions = {}): DuplicatePlan {
  const acc: PlanTotals = { removedGroups: new Map(), keptGroups: new Map(), removedByOwner: {}, copies: 0 };
  const { removedGroups, keptGroups, removedByOwner } = acc;
  const tables: TableCounts[] = [];
  let before = 0;
  let removed = 0;

  for (const table of ruleset.tables.values()) {
    if (options.tables !== undefined && !options.tables.includes(table.name)) continue;
    const analyzer = new ChainAnalyzer(table);
    const changed: ChainCounts[] = [];
    let tableBefore = 0;
    let tableRemoved = 0;
    const wanted = chainsToPlan(table, options.chainsWithCopies);
    for (const chain of table.chains.values()) {
      const length = chainLength(chain);
      tableBefore += length;
      if (length < 2 || (wanted !== undefined && !wanted.has(chain))) continue;
      const chainRemoved = planChain(table, chain, { length, analyzer, acc });
      if (chainRemoved > 0) {
        changed.push({
          chain: chain.name,
          builtin: chain.builtin,
          before: length,
          after: length - chainRemoved,
        });
        tableRemoved += chainRemoved;
      }
    }
    before += tableBefore;
    removed += tableRemoved;
    tables.push({
      table: table.name,
      before: tableBefore,
      after: tableBefore - tableRemoved,
      chains: changed,
    });
  }

  const bySize = <T extends { count: number; runs: readonly CopyRun[] }>(a: T, b: T): number =>
    b.count - a.count || a.runs[0]!.first - b.runs[0]!.first;
  return {
    header: ruleset.header,
    before,
    after: before - removed,
    copies: acc.copies,
    removed,
    kept: acc.copies - removed,
    removedByOwner,
    tables,
    removedGroups: [...removedGroups.values()]
      .map(({ group, runs }) => ({ ...group, ...done(runs) }))
      .sort(bySize),
    keptGroups: [...keptGroups.values()].map(({ group, runs }) => ({ ...group, ...done(runs) })).sort(bySize),
  };
}

/**
 * Decides every copy of one chain (a later copy of a rule goes when no staying rule between it and
 * its nearest staying copy may change what the copy sees); returns how many copies go.
 */
function planChain(
  table: Table,
  chain: Chain,
  ctx: { readonly length: number; readonly analyzer: ChainAnalyzer; readonly acc: PlanTotals },
): number {
  const { length, analyzer, acc } = ctx;
  const rules = ruleAccess(chain); // no object per copy: a leak has 100,000s
  let chainRemoved = 0;
  // Per distinct rule text: the index of its nearest staying copy, and the last decision made for
  // a copy of it (a leak repeats the same decision 100,000 times: reuse it).
  // A text seen once maps to its index; an object is made only for texts that have copies.
  const texts = new Map<string, number | TextState>();
  // Allocated at the first copy, so chains without copies cost one Map pass and no parsing.
  let lastWrite: Int32Array | undefined;
  let gone: Uint8Array | undefined;
  let folded = 0;
  // The chain as runs of identical rules (a parsed chain reads a leak's run of copies as one).
  const { starts, texts: runTexts } = ruleRuns(chain);
  const textAt = textCursor(starts, runTexts);
  for (let r = 0; r < runTexts.length; r++) {
    const text = runTexts[r]!;
    const to = r + 1 < starts.length ? starts[r + 1]! : length;
    for (let j = starts[r]!; j < to; ) {
      const seen = texts.get(text);
      if (seen === undefined) {
        texts.set(text, j++);
        continue;
      }
      let st: TextState;
      if (typeof seen === "number") {
        st = { kept: seen, prev: -1, between: -1, remove: false, runs: undefined, owner: "other" };
        texts.set(text, st);
      } else {
        st = seen;
      }
      if (lastWrite === undefined || gone === undefined) {
        lastWrite = new Int32Array(8).fill(-1);
        gone = new Uint8Array(length);
      }
      // Index of the last staying rule before j that may change each state kind for the packets it
      // lets through; folded in lazily, skipping removed copies.
      for (; folded < j; folded++) {
        if (gone[folded] === 1) continue;
        const w = analyzer.continuingWrites(rules.at(folded), textAt(folded));
        if (w !== 0) for (let k = 0; k < 8; k++) if ((w & (1 << k)) !== 0) lastWrite[k] = folded;
      }
      const between = writesAfter(lastWrite, st.kept);
      if (st.runs === undefined || st.prev !== st.kept || st.between !== between) {
        decide(st, { table, chain, text, analyzer, acc, rules, at: j, between, lastWrite });
      }
      // A removed copy's next copies in its run would each be decided against the same staying
      // copy with the same rules between (removed ones): the same decision, taken at once.
      const n = st.remove ? to - j : 1;
      st.runs!.add(j, n, { first: rules.lineAt(j), last: rules.lineAt(j + n - 1) });
      acc.copies += n;
      if (st.remove) {
        gone.fill(1, j, j + n);
        folded = j + n;
        chainRemoved += n;
        acc.removedByOwner[st.owner] = (acc.removedByOwner[st.owner] ?? 0) + n;
      } else {
        st.kept = j;
      }
      j += n;
    }
  }
  return chainRemoved;
}

/** The text of the rule at a position, for positions asked in increasing order (mostly). */
function textCursor(starts: Int32Array, texts: readonly string[]): (at: number) => string {
  let r = 0;
  return (at) => {
    while (r + 1 < starts.length && starts[r + 1]! <= at) r++;
    while (r > 0 && starts[r]! > at) r--;
    return texts[r]!;
  };
}

/**
 * The chains of `table` a scan found copies in, looked up by name (the other chains' names are
 * never read); undefined plans every chain.
 */
function chainsToPlan(
  table: Table,
  byName: ReadonlyMap<TableName, ReadonlySet<string>> | undefined,
): Set<Chain> | undefined {
  if (byName === undefined) return undefined;
  const names = [...(byName.get(table.name) ?? [])];
  return new Set(names.map((n) => table.chains.get(n)).filter((c) => c !== undefined));
}
