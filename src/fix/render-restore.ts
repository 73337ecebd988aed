/**
 * Renders the cleaned chains as `iptables-restore --noflush` input.
 *
 * Semantics relied on (iptables 1.8.9, checked for both iptables-nft-restore and
 * iptables-legacy-restore in throw-away namespaces by src/cli/commands/fix.kernel.test.ts):
 *
 * - With `--noflush`, only what the file names is touched; other chains and tables stay as they are.
 * - A user-chain declaration `:NAME - [0:0]` flushes that chain when it exists (and creates it
 *   otherwise): the file then appends the chain's cleaned rules. Jumps into the chain from elsewhere
 *   are untouched, because the chain is flushed, not deleted.
 * - A built-in chain declaration does NOT flush it under `--noflush`, and `:FORWARD ACCEPT [0:0]` would
 *   set the policy to what the dump said (possibly stale). So built-in chains are not declared;
 *   an explicit `-F FORWARD` line empties them and leaves the policy alone.
 * - Each `*table ... COMMIT` block is applied atomically.
 * - `[packets:bytes]` prefixes are kept; iptables-restore applies them only with `-c`, else ignores them.
 *
 * Without `--noflush` iptables-restore flushes the whole table first: every chain not in the file
 * would be deleted. The file's first line says so.
 */
import {
  type Chain,
  chainLength,
  type RuleAccess,
  type Ruleset,
  ruleAccess,
  type TableName,
} from "../model/ruleset.ts";
import type { CopyRun, DuplicatePlan } from "./plan-duplicates.ts";

/** The restore text of one table. */
export interface RestoreFile {
  readonly table: TableName;
  /** Chains the block replaces, in dump order. */
  readonly chains: readonly string[];
  readonly text: string;
}

/** The removed runs of each chain of `table` (by name), in order. */
function removedRuns(plan: DuplicatePlan, table: TableName): Map<string, CopyRun[]> {
  const byChain = new Map<string, CopyRun[]>();
  for (const g of plan.removedGroups) {
    if (g.table !== table) continue;
    let runs = byChain.get(g.chain);
    if (runs === undefined) byChain.set(g.chain, (runs = []));
    runs.push(...g.runs);
  }
  for (const runs of byChain.values()) runs.sort((a, b) => a.first - b.first);
  return byChain;
}

/**
 * The positions in a chain of `count` rules that `runs` (sorted) remove, as a flag per position: a
 * run is its chain's `count` rules from the one on its first line. Each run's first rule is searched
 * by line (the lines ascend in chain order), so a leak's chain is not walked rule by rule.
 */
function goneIn(rules: RuleAccess, count: number, runs: readonly CopyRun[]): Uint8Array {
  const gone = new Uint8Array(count);
  let k = 0;
  for (const run of runs) {
    let hi = count;
    while (k < hi) {
      const mid = (k + hi) >>> 1;
      if (rules.lineAt(mid) < run.first) k = mid + 1;
      else hi = mid;
    }
    gone.fill(1, k, k + run.count);
    k += run.count;
  }
  return gone;
}

/** The set of dump lines the plan removes (the ruleset the plan was made from gives the runs' lines). */
export function removedLines(ruleset: Ruleset, plan: DuplicatePlan): Set<number> {
  const out = new Set<number>();
  for (const t of plan.tables) {
    const chains = ruleset.tables.get(t.table)?.chains;
    for (const [name, runs] of removedRuns(plan, t.table)) {
      const chain = chains?.get(name);
      if (chain === undefined) continue;
      const rules = ruleAccess(chain);
      const gone = goneIn(rules, chainLength(chain), runs);
      for (let k = gone.indexOf(1); k >= 0; k = gone.indexOf(1, k + 1)) out.add(rules.lineAt(k));
    }
  }
  return out;
}

/**
 * The program to apply the file with: the restore twin of the iptables-save that wrote the dump, same
 * package and backend (`xtables-save` is how iptables-nft 1.8.0-1.8.3 named itself).
 */
export function restoreCommand(plan: Pick<DuplicatePlan, "header">): string {
  const h = plan.header;
  const program = h.program ?? "iptables-save";
  if (program === "xtables-save") return "iptables-nft-restore";
  const plain = /^(ip6?tables)-save$/.exec(program);
  if (plain !== null && h.backend === "nf_tables") return `${plain[1]}-nft-restore`;
  const restore = program.replace(/-save$/, "-restore");
  return restore === program ? "iptables-restore" : restore;
}

/**
 * One `*table ... COMMIT` block per table with removals, replacing exactly the affected chains.
 *
 * @example
 * ```ts
 * const files = renderRestore(ruleset, planDuplicates(ruleset));
 * files[0]?.text; // "# ...\n*filter\n:KUBE-ROUTER-INPUT - [0:0]\n-A KUBE-ROUTER-INPUT ...\nCOMMIT\n"
 * ```
 */
export function renderRestore(ruleset: Ruleset, plan: DuplicatePlan): RestoreFile[] {
  const files: RestoreFile[] = [];
  for (const counts of plan.tables) {
    if (counts.chains.length === 0) continue;
    const table = ruleset.tables.get(counts.table);
    if (table === undefined) continue;
    const removed = removedRuns(plan, table.name);
    // Looked up by name, then taken in dump order: the other chains' names are never read.
    const affected = new Set(counts.chains.map((c) => table.chains.get(c.chain)));
    const chains: Chain[] = [...table.chains.values()].filter((c) => affected.has(c));
    const parts: string[] = [
      `# netdoctor fix duplicates: table ${table.name}, ${chains.length} chain(s), ${counts.before - counts.after} rule(s) removed`,
      `# Apply ONLY with: ${restoreCommand(plan)} --noflush (without --noflush the whole table is replaced by this file)`,
      `*${table.name}`,
    ];
    for (const c of chains) if (!c.builtin) parts.push(`:${c.name} - [0:0]`);
    for (const c of chains) {
      if (c.builtin) parts.push(`-F ${c.name}`);
      // By position first: a removed copy's rule object is never made.
      const rules = ruleAccess(c);
      const gone = goneIn(rules, chainLength(c), removed.get(c.name) ?? []);
      // Kept rules found by searching the flags for 0 (memchr): a leak's removed copies are skipped in bulk.
      for (let k = gone.indexOf(0); k >= 0; k = gone.indexOf(0, k + 1)) parts.push(rules.at(k).raw);
    }
    parts.push("COMMIT", "");
    files.push({ table: table.name, chains: chains.map((c) => c.name), text: parts.join("\n") });
  }
  return files;
}
