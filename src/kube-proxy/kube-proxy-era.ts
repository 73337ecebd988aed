/**
 * The kube-proxy version range a node's iptables-mode rules were written by, from the shape of
 * the rules alone (version table: /work/shared/reference/kube-proxy-rules.md §4). It narrows what
 * a correct kube-proxy must have written where versions differ (the Cluster-policy
 * terminating-endpoint fallback arrived in v1.26) and is shown with the mode.
 */
import type { Evidence } from "../model/finding.ts";
import type { TableName } from "../model/ruleset.ts";
import { declaredWithPrefix, firstDeclared } from "./declared-chains.ts";
import type { ChoiceEra } from "./endpoint-choices.ts";
import type { IndexedRule, KubeProxyIndex } from "./kube-proxy-index.ts";

export interface KubeProxyEra {
  /** Lowest Kubernetes minor version (1.x) the rules allow; undefined when nothing bounds it. */
  readonly min?: number;
  /** Highest minor version the rules allow. */
  readonly max?: number;
  /** E.g. `v1.24 or later`, `v1.21-v1.23`. */
  readonly label: string;
  readonly evidence: readonly Evidence[];
}

interface Signal {
  readonly bound: "min" | "max";
  readonly minor: number;
  readonly find: (index: KubeProxyIndex) => { line: number; text: string } | undefined;
}

/** The first chain declared with one of `prefixes` (found without reading every name, declared-chains.ts). */
function declared(table: TableName, prefixes: readonly string[]) {
  return (index: KubeProxyIndex) => {
    const found = firstDeclared(index.chains, table, prefixes);
    return found === undefined ? undefined : { line: found[1], text: `:${found[0]} - [0:0]` };
  };
}

/** The declaration of the chain `name` (looked up, not searched: a node declares 250,000 chains). */
function declaredName(table: TableName, name: string) {
  return (index: KubeProxyIndex) => {
    const line = index.chains.get(table)?.get(name);
    return line === undefined ? undefined : { line, text: `:${name} - [0:0]` };
  };
}

/**
 * The first rule holding `needle` in the indexed nat chains named `prefix...`, the chains taken in the
 * order of their first indexed rule. The chains are found by their declarations: an index built on
 * demand (ruleset-index.ts) then indexes only those chains.
 */
function ruleIn(prefix: string, needle: string) {
  return (index: KubeProxyIndex) => {
    const chains: (readonly IndexedRule[])[] = [];
    for (const [chain] of declaredWithPrefix(index.chains, "nat", [prefix])) {
      const rules = index.nat.get(chain);
      if (rules !== undefined && rules.length > 0) chains.push(rules);
    }
    chains.sort((a, b) => a[0]!.line - b[0]!.line);
    for (const rules of chains) {
      const r = rules.find((x) => x.text.includes(needle));
      if (r !== undefined) return { line: r.line, text: r.text };
    }
    return undefined;
  };
}

/** Each signal with the release that introduced or removed it. */
const SIGNALS: readonly Signal[] = [
  { bound: "min", minor: 17, find: declaredName("nat", "KUBE-PROXY-CANARY") }, // PR #81517
  { bound: "min", minor: 21, find: declaredName("filter", "KUBE-NODEPORTS") }, // PR #97824
  {
    bound: "min",
    minor: 24,
    find: declared("nat", ["KUBE-EXT-", "KUBE-SVL-"]),
  }, // PR #109060
  { bound: "min", minor: 25, find: declaredName("filter", "KUBE-PROXY-FIREWALL") }, // PR #110289
  { bound: "min", minor: 31, find: ruleIn("KUBE-NODEPORTS", "localhost_nps_accepted_pkts") }, // PR #125015
  { bound: "max", minor: 23, find: declared("nat", ["KUBE-XLB-"]) }, // removed by PR #109060
];

/** The era of the rules in `index` (`file` is the dump's path, for evidence). */
export function detectEra(index: KubeProxyIndex, file: string): KubeProxyEra {
  let min: number | undefined;
  let max: number | undefined;
  const evidence: Evidence[] = [];
  for (const s of SIGNALS) {
    const hit = s.find(index);
    if (hit === undefined) continue;
    if (s.bound === "min" && (min === undefined || s.minor > min)) min = s.minor;
    if (s.bound === "max" && (max === undefined || s.minor < max)) max = s.minor;
    evidence.push({ file, line: hit.line, text: hit.text });
  }
  // Contradicting signals (an upgrade's leftovers): keep the newer bound, drop the other.
  if (min !== undefined && max !== undefined && min > max) max = undefined;
  const label =
    min !== undefined && max !== undefined
      ? `v1.${min}-v1.${max}`
      : min !== undefined
        ? `v1.${min} or later`
        : max !== undefined
          ? `v1.${max} or earlier`
          : "unknown version";
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), label, evidence };
}

/** What the era decides about endpoint choices. */
export function choiceEra(era: KubeProxyEra | undefined): ChoiceEra {
  if (era?.min !== undefined && era.min >= 26) return { clusterTerminatingFallback: true };
  if (era?.max !== undefined && era.max < 26) return { clusterTerminatingFallback: false };
  return {};
}
