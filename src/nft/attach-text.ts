/**
 * Joins the JSON dump's tables with the `nft -a list ruleset` text of the same moment: each rule,
 * chain, set and table gets its text line (rules by handle, or by position without `-a`), ingress
 * chains get the devices the JSON of nft 1.0.6 leaves out, and each table its owner.
 */
import type { NftChain, NftRule, NftSet, NftTable, NftWarning } from "./nft-ruleset.ts";
import type { NftTextIndex } from "./parse-nft-text.ts";
import { tableOwner } from "./rule-problems.ts";

/** A table being assembled from the JSON objects, and its rules by chain name. */
export interface Builder {
  table: Omit<NftTable, "chains" | "sets" | "owner"> & {
    chains: Map<string, NftChain>;
    sets: Map<string, NftSet>;
  };
  rules: Map<string, NftRule[]>;
}

/** Each handle's first rule line (a text dump has one per handle; the first wins, as a search would). */
function firstByHandle<T extends { readonly handle?: number }>(
  rules: readonly T[],
): Map<number | undefined, T> {
  const m = new Map<number | undefined, T>();
  for (const r of rules) if (!m.has(r.handle)) m.set(r.handle, r);
  return m;
}

/** The finished table, with text lines when `index` is given; rules of unknown chains become warnings. */
export function withText(b: Builder, index: NftTextIndex | undefined, warnings: NftWarning[]): NftTable {
  const t = b.table;
  const tkey = `${t.family} ${t.name}`;
  const chains = new Map<string, NftChain>();
  for (const [name, chain] of t.chains) {
    const tc = index?.chains.get(`${tkey} ${name}`);
    // By handle through a map: a leaked chain (k3s-io/k3s#3117) has 10,000s of rules.
    const byHandle = tc === undefined || !index!.hasHandles ? undefined : firstByHandle(tc.rules);
    const rules = (b.rules.get(name) ?? []).map((r, i) => {
      const ref =
        tc === undefined ? undefined : byHandle !== undefined ? byHandle.get(r.handle) : tc.rules[i];
      return ref === undefined ? r : { ...r, text: { line: ref.line, text: ref.text } };
    });
    b.rules.delete(name);
    const base =
      chain.base !== undefined && chain.base.devices === undefined && tc?.devices !== undefined
        ? { ...chain.base, devices: tc.devices }
        : chain.base;
    chains.set(name, {
      ...chain,
      ...(base === undefined ? {} : { base }),
      rules,
      ...(tc === undefined ? {} : { text: { line: tc.line, text: tc.text } }),
    });
  }
  for (const [chain, rules] of b.rules) {
    warnings.push({
      message: `Cannot place ${rules.length} rule(s) of chain ${tkey} ${chain}: the chain is not in the dump`,
      table: t.name,
      chain,
    });
  }
  const sets = new Map<string, NftSet>();
  for (const [name, set] of t.sets) {
    const ref = index?.sets.get(`${tkey} ${name}`);
    sets.set(
      name,
      ref === undefined ? set : { ...set, text: { line: ref.line, text: ref.text }, textBody: ref.body },
    );
  }
  const tref = index?.tables.get(tkey);
  const owner = tableOwner(t.family, t.name, chains, index?.iptablesNft.has(tkey) ?? false);
  return { ...t, chains, sets, ...owner, ...(tref === undefined ? {} : { text: tref }) };
}
