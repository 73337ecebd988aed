/**
 * A node's `table ip kube-proxy` read for reconciliation: the elements of its dispatch maps with
 * their evidence (the element's line in `nft -a list ruleset`), and what a service or policy chain
 * leads to — the DNAT targets reachable through gotos, jumps and numgen verdict maps, with the rules
 * that prove each step.
 */
import { type EvidenceFiles, ruleEvidence } from "../../nft/eval-chain.ts";
import type { NftEvidence } from "../../nft/nft-packet.ts";
import type {
  NftElement,
  NftExpr,
  NftRule,
  NftRuleset,
  NftSet,
  NftTable,
  NftVerdict,
} from "../../nft/nft-ruleset.ts";
import { findTable } from "../../nft/nft-ruleset.ts";
import { KUBE_PROXY_MAPS, type KubeProxyMap } from "./expected-nft.ts";

export interface MapEntry {
  readonly map: KubeProxyMap | "cluster-ips";
  /** The key as nft prints it: `172.30.0.41 . tcp . 80`. */
  readonly key: string;
  readonly verdict?: NftVerdict;
  readonly comment?: string;
  readonly evidence: NftEvidence;
}

export interface KubeProxyTable {
  readonly table: NftTable;
  readonly files: EvidenceFiles;
  readonly maps: ReadonlyMap<KubeProxyMap | "cluster-ips", ReadonlyMap<string, MapEntry>>;
}

/** A DNAT reached from a chain, with the rule that sends the packet to its endpoint chain. */
export interface Reached {
  readonly target: string;
  readonly dnat: NftRule;
  readonly via?: NftRule;
}

/** A `numgen random mod N vmap { ... }` rule met on the way. */
export interface NumgenRule {
  readonly chain: string;
  readonly rule: NftRule;
  readonly mod: number;
  readonly indexes: readonly number[];
  readonly targets: readonly string[];
}

function scalar(e: NftExpr): string {
  return e.kind === "immediate" ? String(e.value) : "?";
}

/** An element key as nft prints it. */
export function keyText(e: NftExpr): string {
  return e.kind === "concat" ? e.items.map(scalar).join(" . ") : scalar(e);
}

function verdictText(v: NftVerdict | undefined): string {
  if (v === undefined) return "";
  return v.kind === "jump" || v.kind === "goto" ? ` : ${v.kind} ${v.target}` : ` : ${v.kind}`;
}

function elementEvidence(set: NftSet, el: NftElement, key: string, files: EvidenceFiles): NftEvidence {
  const v = el.data?.kind === "verdict" ? el.data.verdict : undefined;
  const what = `${set.dataType === undefined ? "set" : "map"} ${set.name} element ${key}${verdictText(v)}`;
  if (files.text !== undefined && set.textBody !== undefined) {
    const re = new RegExp(`(^|[{,]\\s*)${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( |,|$)`);
    const hit = set.textBody.find((l) => re.test(l.text));
    if (hit !== undefined) return { file: files.text, line: hit.line, text: hit.text };
    if (set.text !== undefined) return { file: files.text, line: set.text.line, text: what };
  }
  return { file: files.json, text: `${what} (table ${set.family} ${set.table})` };
}

/** Reads `table ip kube-proxy`, or undefined when the ruleset has none. */
export function readKubeProxyTable(ruleset: NftRuleset, files: EvidenceFiles): KubeProxyTable | undefined {
  const table = findTable(ruleset, "ip", "kube-proxy");
  if (table === undefined) return undefined;
  const maps = new Map<KubeProxyMap | "cluster-ips", Map<string, MapEntry>>();
  for (const name of [...KUBE_PROXY_MAPS, "cluster-ips" as const]) {
    const set = table.sets.get(name);
    const entries = new Map<string, MapEntry>();
    maps.set(name, entries);
    if (set === undefined) continue;
    for (const el of set.elements) {
      const key = keyText(el.key);
      const verdict = el.data?.kind === "verdict" ? el.data.verdict : undefined;
      entries.set(key, {
        map: name,
        key,
        ...(verdict === undefined ? {} : { verdict }),
        ...(el.comment === undefined ? {} : { comment: el.comment }),
        evidence: elementEvidence(set, el, key, files),
      });
    }
  }
  return { table, files, maps };
}

/** Verdicts a rule can take: its goto/jump statement and the elements of an anonymous verdict map. */
function ruleTargets(rule: NftRule): { numgen?: { mod: number; indexes: number[] }; targets: string[] } {
  const targets: string[] = [];
  let numgen: { mod: number; indexes: number[] } | undefined;
  for (const s of rule.stmts) {
    if (s.kind === "verdict" && (s.verdict.kind === "goto" || s.verdict.kind === "jump"))
      targets.push(s.verdict.target);
    if (s.kind === "vmap" && s.data.kind === "set") {
      const indexes: number[] = [];
      for (const el of s.data.elements) {
        if (
          el.data?.kind === "verdict" &&
          (el.data.verdict.kind === "goto" || el.data.verdict.kind === "jump")
        ) {
          targets.push(el.data.verdict.target);
        }
        if (el.key.kind === "immediate" && typeof el.key.value === "number") indexes.push(el.key.value);
      }
      if (s.key.kind === "numgen") numgen = { mod: s.key.mod, indexes };
    }
  }
  return { ...(numgen === undefined ? {} : { numgen }), targets };
}

function dnatOf(rule: NftRule): string | undefined {
  for (const s of rule.stmts) {
    if (s.kind !== "nat" || s.type !== "dnat" || s.addr?.kind !== "immediate") continue;
    const port = s.port?.kind === "immediate" ? `:${s.port.value}` : "";
    return `${s.addr.value}${port}`;
  }
  return undefined;
}

/**
 * Every DNAT target reachable from `chain` through kube-proxy's service and endpoint chains (those
 * with a "/" in their name), and every numgen verdict map on the way.
 */
export function follow(
  t: KubeProxyTable,
  chain: string,
): { reached: Map<string, Reached>; numgen: NumgenRule[]; chains: Set<string> } {
  const reached = new Map<string, Reached>();
  const numgen: NumgenRule[] = [];
  const seen = new Set<string>();
  const walk = (name: string, via: NftRule | undefined): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const c = t.table.chains.get(name);
    if (c === undefined) return;
    for (const rule of c.rules) {
      const d = dnatOf(rule);
      if (d !== undefined && !reached.has(d))
        reached.set(d, { target: d, dnat: rule, ...(via === undefined ? {} : { via }) });
      const { numgen: ng, targets } = ruleTargets(rule);
      if (ng !== undefined) numgen.push({ chain: name, rule, mod: ng.mod, indexes: ng.indexes, targets });
      for (const next of targets) if (next.includes("/")) walk(next, rule);
    }
  };
  walk(chain, undefined);
  return { reached, numgen, chains: seen };
}

/** Evidence of a rule of the table. */
export function evidenceOf(t: KubeProxyTable, rule: NftRule): NftEvidence {
  return ruleEvidence(rule, t.files);
}

/** An element's verdict as nft prints it (`goto reject-chain`, `drop`). */
export function verdictName(e: MapEntry): string {
  const v = e.verdict;
  if (v === undefined) return "?";
  return v.kind === "goto" || v.kind === "jump" ? `${v.kind} ${v.target}` : v.kind;
}
