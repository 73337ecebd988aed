/**
 * A {@linkcode KubeProxyIndex} over a parsed dump (issue 14): when a node's dump is parsed anyway
 * (the client node of a diagnose question, for its trace), reconciliation reads the same parse
 * instead of a second index built rule by rule during the pass. Nothing is made up front: a chain's
 * rules are indexed the first time someone asks for that chain, so a question about one Service on a
 * million-rule node indexes nat KUBE-SERVICES and that Service's chains, not the other 250,000.
 * What it answers is what {@linkcode KubeProxyIndexer} answers for the same dump (tested side by side).
 */
import type { Chain, Ruleset, TableName } from "../model/ruleset.ts";
import { KNOWN_TARGETS } from "../parse/known-extensions.ts";
import { ParsedChains } from "../parse/parsed-chains.ts";
import { targetOfText } from "../parse/rule-view.ts";
import type { DeclaredChains } from "./declared-chains.ts";
import {
  FILTER_CHAINS,
  type IndexedRule,
  IPVS_CLUSTER_IP_MATCH,
  type KubeProxyIndex,
  MAX_UNDEFINED,
  marksOnly,
  NAT_CHAIN,
  type UndefinedJump,
} from "./kube-proxy-index.ts";
import { chainRules, indexChain, LastChain, NatRules } from "./parsed-nat-rules.ts";

/** A table's declared chains as name → declaration line, read from the parsed chains (no copy). */
class DeclarationLines implements DeclaredChains {
  constructor(readonly chains: ReadonlyMap<string, Chain>) {}

  *withPrefix(prefixes: readonly string[]): Generator<[string, number]> {
    const chains = this.chains;
    if (chains instanceof ParsedChains) {
      for (const c of chains.withPrefix(prefixes)) yield [c.name, c.line];
      return;
    }
    for (const c of chains.values()) if (prefixes.some((p) => c.name.startsWith(p))) yield [c.name, c.line];
  }

  get size(): number {
    return this.chains.size;
  }

  get(name: string): number | undefined {
    return this.chains.get(name)?.line;
  }

  has(name: string): boolean {
    return this.chains.has(name);
  }

  *entries(): MapIterator<[string, number]> {
    for (const c of this.chains.values()) yield [c.name, c.line];
  }

  *keys(): MapIterator<string> {
    for (const c of this.chains.values()) yield c.name;
  }

  *values(): MapIterator<number> {
    for (const c of this.chains.values()) yield c.line;
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }

  forEach(
    cb: (value: number, key: string, map: ReadonlyMap<string, number>) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, v] of this) cb.call(thisArg, v, k, this);
  }
}

/**
 * Jumps to chains their table does not declare: the first rule per target, in dump order, at most
 * {@linkcode MAX_UNDEFINED}. As in the indexer, kube-proxy's mark-only nat rules are not looked at
 * (kube-proxy's own test dumps jump to kubelet's KUBE-MARK-DROP without declaring it).
 */
function undefinedJumps(ruleset: Ruleset): UndefinedJump[] {
  const found: UndefinedJump[] = [];
  for (const [table, t] of ruleset.tables) {
    const first = new Map<string, UndefinedJump>();
    for (const chain of t.chains.values()) {
      const { lines, texts } = chainRules(chain);
      const marks = table === "nat" && NAT_CHAIN.test(chain.name);
      for (let k = 0; k < texts.length; k++) {
        if (marks && marksOnly(texts[k]!)) continue;
        const target = targetOfText(texts[k]!);
        if (target === undefined || KNOWN_TARGETS.has(target) || t.chains.has(target)) continue;
        const seen = first.get(target);
        if (seen === undefined || lines[k]! < seen.line)
          first.set(target, { table, target, line: lines[k]!, text: texts[k]! });
      }
    }
    found.push(...first.values());
  }
  return found.sort((a, b) => a.line - b.line).slice(0, MAX_UNDEFINED);
}

/** The index, its parts made on first use. */
class RulesetIndex implements KubeProxyIndex {
  readonly chains: ReadonlyMap<TableName, DeclaredChains>;
  readonly nat: NatRules;
  readonly #ruleset: Ruleset;
  readonly #read = new LastChain();
  #filter: IndexedRule[] | undefined;
  #undefined: UndefinedJump[] | undefined;
  #ipvs: { readonly line: number; readonly text: string } | null | undefined;

  constructor(ruleset: Ruleset) {
    this.#ruleset = ruleset;
    this.chains = new Map([...ruleset.tables].map(([name, t]) => [name, new DeclarationLines(t.chains)]));
    this.nat = new NatRules(ruleset.tables.get("nat")?.chains, this.#read);
  }

  get filter(): readonly IndexedRule[] {
    if (this.#filter === undefined) {
      const chains = this.#ruleset.tables.get("filter")?.chains;
      const rules: IndexedRule[] = [];
      for (const name of FILTER_CHAINS) {
        const chain = chains?.get(name);
        if (chain !== undefined) rules.push(...indexChain("filter", chain, this.#read));
      }
      this.#filter = rules.sort((a, b) => a.line - b.line);
    }
    return this.#filter;
  }

  natRulesTo(chain: string, ip: string): readonly IndexedRule[] {
    return this.nat.rulesTo(chain, ip);
  }

  get undefinedJumps(): readonly UndefinedJump[] {
    this.#undefined ??= undefinedJumps(this.#ruleset);
    return this.#undefined;
  }

  get ipvsClusterIpMatch(): { readonly line: number; readonly text: string } | undefined {
    if (this.#ipvs === undefined) {
      this.#ipvs = null;
      const chain = this.#ruleset.tables.get("nat")?.chains.get("KUBE-SERVICES");
      if (chain !== undefined) {
        const { lines, texts } = this.#read.read(chain);
        const k = texts.findIndex((t) => t.includes(IPVS_CLUSTER_IP_MATCH));
        if (k >= 0) this.#ipvs = { line: lines[k]!, text: texts[k]! };
      }
    }
    return this.#ipvs ?? undefined;
  }
}

/**
 * The kube-proxy index of a parsed dump, read from the parse on demand (see the file comment).
 *
 * @example
 * ```ts
 * const index = rulesetIndex(parseDump(text, { lazy: true }));
 * index.nat.get("KUBE-SERVICES")?.length; // the Service entry rules, indexed now
 * ```
 */
export function rulesetIndex(ruleset: Ruleset): KubeProxyIndex {
  return new RulesetIndex(ruleset);
}
