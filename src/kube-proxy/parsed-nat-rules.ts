/**
 * The nat rules of a parsed dump as {@linkcode KubeProxyIndex.nat} serves them (ruleset-index.ts):
 * a chain's rules are indexed when first asked for, and a lookup by destination indexes only the
 * rules that name it.
 */
import type { Chain, TableName } from "../model/ruleset.ts";
import { ruleAccess } from "../model/ruleset.ts";
import { type IndexedRule, indexRule, marksOnly, NAT_CHAIN } from "./kube-proxy-index.ts";

/** A chain's rules as lines and texts. */
export interface ChainRules {
  readonly lines: ArrayLike<number>;
  readonly texts: readonly string[];
}

/** The rules of a chain as (line, text) pairs, without a rule object per rule where the chain allows. */
export function chainRules(chain: Chain): ChainRules {
  const texts = chain.ruleTexts?.() ?? chain.rules.map((r) => r.text);
  return { lines: ruleAccess(chain).lines, texts };
}

/**
 * {@linkcode chainRules}, remembering the two chains read last: nat KUBE-SERVICES (tens of thousands
 * of rules) is read for the IPVS mark, then KUBE-NODEPORTS for the era, then KUBE-SERVICES again for
 * the asked Service's entries, and its texts are decoded once.
 */
export class LastChain {
  #recent: { readonly chain: Chain; readonly rules: ChainRules }[] = [];

  read(chain: Chain): ChainRules {
    const hit = this.#recent.find((r) => r.chain === chain);
    if (hit !== undefined) return hit.rules;
    const rules = chainRules(chain);
    this.#recent = [{ chain, rules }, ...this.#recent.slice(0, 1)];
    return rules;
  }
}

/** Every rule of `chain` through {@linkcode indexRule}; nat mark-only rules are left out, as the indexer does. */
export function indexChain(table: TableName, chain: Chain, read: LastChain): IndexedRule[] {
  const { lines, texts } = read.read(chain);
  const out: IndexedRule[] = [];
  const name = chain.name;
  for (let k = 0; k < texts.length; k++) {
    const text = texts[k]!;
    if (table === "nat" && marksOnly(text)) continue;
    out.push(indexRule({ table, chain: name, index: k, line: lines[k]!, raw: text, text }));
  }
  return out;
}

/**
 * The indexed nat rules by chain, each chain indexed on first `get`. Iterating visits every indexed
 * chain (and so indexes all of them), in the order of their first indexed rule, as the indexer's map.
 */
export class NatRules implements ReadonlyMap<string, readonly IndexedRule[]> {
  readonly #chains: ReadonlyMap<string, Chain> | undefined;
  readonly #read: LastChain;
  /** Indexed chains; null for a chain with nothing indexed. */
  readonly #made = new Map<string, IndexedRule[] | null>();
  #all: Map<string, IndexedRule[]> | undefined;

  constructor(chains: ReadonlyMap<string, Chain> | undefined, read: LastChain) {
    this.#chains = chains;
    this.#read = read;
  }

  get(name: string): IndexedRule[] | undefined {
    let made = this.#made.get(name);
    if (made === undefined) {
      const chain = NAT_CHAIN.test(name) ? this.#chains?.get(name) : undefined;
      const rules = chain === undefined ? [] : indexChain("nat", chain, this.#read);
      made = rules.length === 0 ? null : rules;
      this.#made.set(name, made);
    }
    return made ?? undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * The indexed rules of `name` whose text names `ip` after ` -d ` (every rule whose destination is
   * `ip` is among them; the caller compares), in order, without indexing the chain's other rules:
   * a question about one Service looks up its ClusterIP among tens of thousands of entries.
   */
  rulesTo(name: string, ip: string): IndexedRule[] {
    const needle = ` -d ${ip}`;
    const made = this.#made.get(name);
    if (made !== undefined) return made === null ? [] : made.filter((r) => r.text.includes(needle));
    const chain = NAT_CHAIN.test(name) ? this.#chains?.get(name) : undefined;
    if (chain === undefined) return [];
    const { lines, texts } = this.#read.read(chain);
    const out: IndexedRule[] = [];
    for (let k = 0; k < texts.length; k++) {
      const text = texts[k]!;
      if (!text.includes(needle) || marksOnly(text)) continue;
      out.push(indexRule({ table: "nat", chain: name, index: k, line: lines[k]!, raw: text, text }));
    }
    return out;
  }

  #every(): Map<string, IndexedRule[]> {
    if (this.#all === undefined) {
      const found: [string, IndexedRule[]][] = [];
      for (const c of this.#chains?.values() ?? []) {
        const rules = NAT_CHAIN.test(c.name) ? this.get(c.name) : undefined;
        if (rules !== undefined) found.push([c.name, rules]);
      }
      found.sort((a, b) => a[1][0]!.line - b[1][0]!.line);
      this.#all = new Map(found);
    }
    return this.#all;
  }

  get size(): number {
    return this.#every().size;
  }

  entries(): MapIterator<[string, IndexedRule[]]> {
    return this.#every().entries();
  }

  keys(): MapIterator<string> {
    return this.#every().keys();
  }

  values(): MapIterator<IndexedRule[]> {
    return this.#every().values();
  }

  [Symbol.iterator](): MapIterator<[string, IndexedRule[]]> {
    return this.entries();
  }

  forEach(
    cb: (
      value: readonly IndexedRule[],
      key: string,
      map: ReadonlyMap<string, readonly IndexedRule[]>,
    ) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, v] of this) cb.call(thisArg, v, k, this);
  }
}
