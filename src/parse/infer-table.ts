import { BUILTIN_CHAINS, TABLE_NAMES, type TableName } from "../model/ruleset.ts";

/** What {@linkcode inferTable} concluded. */
export type TableGuess =
  | { readonly table: TableName; readonly exact: boolean }
  | { readonly table?: undefined; readonly candidates: readonly TableName[] };

/**
 * The table that `iptables -S` (or `iptables -L`) output came from, told by its built-in chains.
 * `iptables -S` prints one `-P` line for every built-in chain of the table, so with `policies` the
 * set names the table exactly: {PREROUTING, INPUT, OUTPUT, POSTROUTING} is nat (without INPUT on
 * kernels before 2.6.36), all five is mangle, {PREROUTING, OUTPUT} is raw, and {INPUT, FORWARD,
 * OUTPUT} is filter (security has the same chains, but `iptables -S` without `-t` lists filter).
 * Otherwise (`used`: built-in chains that rules were appended to) only the tables that have all of
 * them remain: one is an answer, several are a question, unless filter (iptables' default table)
 * is among them.
 *
 * @example
 * ```ts
 * inferTable(["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"], []); // { table: "nat", exact: true }
 * inferTable([], ["POSTROUTING"]); // { candidates: ["mangle", "nat"] }
 * ```
 */
export function inferTable(policies: readonly string[], used: readonly string[]): TableGuess {
  const seen = new Set(policies);
  if (seen.size > 0) {
    for (const table of ["filter", "nat", "mangle", "raw"] as const) {
      const builtins = BUILTIN_CHAINS[table];
      if (builtins.length === seen.size && builtins.every((c) => seen.has(c))) return { table, exact: true };
    }
    if (seen.size === 3 && ["PREROUTING", "OUTPUT", "POSTROUTING"].every((c) => seen.has(c)))
      return { table: "nat", exact: true };
  }
  const all = [...seen, ...used];
  const candidates = TABLE_NAMES.filter((t) => all.every((c) => BUILTIN_CHAINS[t].includes(c)));
  if (candidates.length === 1) return { table: candidates[0]!, exact: all.length > 0 };
  if (candidates.includes("filter")) return { table: "filter", exact: false };
  return { candidates: [...candidates].sort() };
}
