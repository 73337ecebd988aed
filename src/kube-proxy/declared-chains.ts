/**
 * A table's chain declarations as a kube-proxy index holds them, and the search every detector of
 * kube-proxy's chains uses: the chains named with a prefix, in declaration order. A node declares
 * about 250,000 chains; an index read from a parsed dump (ruleset-index.ts) finds them on the names'
 * bytes, without making a string of every name.
 */
import type { TableName } from "../model/ruleset.ts";

/** Chain name → declaration line, in declaration order; `withPrefix` when the names can be searched cheaper. */
export interface DeclaredChains extends ReadonlyMap<string, number> {
  /** The chains whose names start with one of `prefixes`, in declaration order. */
  withPrefix?(prefixes: readonly string[]): Iterable<[string, number]>;
}

function* filtered(chains: ReadonlyMap<string, number>, prefixes: readonly string[]) {
  for (const entry of chains) if (prefixes.some((p) => entry[0].startsWith(p))) yield entry;
}

/**
 * The chains of `table` whose names start with one of `prefixes`, in declaration order, as
 * `[name, line]`.
 *
 * @example
 * ```ts
 * const [first] = declaredWithPrefix(index.chains, "nat", ["KUBE-SVC-"]);
 * ```
 */
export function declaredWithPrefix(
  chains: ReadonlyMap<TableName, DeclaredChains>,
  table: TableName,
  prefixes: readonly string[],
): Iterable<[string, number]> {
  const declared = chains.get(table);
  if (declared === undefined) return [];
  return declared.withPrefix?.(prefixes) ?? filtered(declared, prefixes);
}

/** The first of {@linkcode declaredWithPrefix}, or undefined. */
export function firstDeclared(
  chains: ReadonlyMap<TableName, DeclaredChains>,
  table: TableName,
  prefixes: readonly string[],
): [string, number] | undefined {
  for (const entry of declaredWithPrefix(chains, table, prefixes)) return entry;
  return undefined;
}
