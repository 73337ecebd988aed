/**
 * Per-ruleset data the tracer reuses across traces: compiled rules (built on first use) and, for
 * long chains such as nat KUBE-SERVICES, a dispatch index from destination IP (or destination port)
 * to the rules that could match. Candidates keep rule order: the rules keyed on the packet's
 * destination merged with the rules that do not constrain it, so a trace visits exactly the rules a
 * linear scan would have matched, without scanning.
 */
import type { Chain, Rule, Ruleset, TableName } from "../model/ruleset.ts";
import { parseCidr } from "../net/ipv4.ts";
import { type CompiledRule, compileRule, specOf } from "./compile-rule.ts";

/** Generic rules merged into every destination's list at build time, at most. */
const PREMERGE_MAX = 8;

/** Chains shorter than this are scanned linearly (an index would cost more than it saves). */
const INDEX_MIN_RULES = 24;

export interface ChainIndex {
  readonly byDst: Map<number, number[]>;
  readonly byDport: Map<number, number[]>;
  /** Rules that may match any destination, in order. */
  readonly generic: number[];
  /** Cache of candidate lists: key dst (>= 0) or -1-dport. */
  readonly merged: Map<number, number[]>;
  /**
   * True when `byDst`'s lists already include `generic` (a chain with no port dispatch and only a
   * few generic rules, like nat KUBE-SERVICES): one map lookup per trace.
   */
  readonly premerged: boolean;
}

export interface ChainInfo {
  readonly table: TableName;
  readonly chain: Chain;
  /** The chain's rule count (read here, without touching the chain, on every walk). */
  readonly length: number;
  /** Compiled rules by position; allocated when the chain is first walked. */
  compiled: Array<CompiledRule | undefined> | undefined;
  /** Undefined for short chains; null until built. */
  index: ChainIndex | null | undefined;
  /** The policy's trace step, built on first use. */
  policyStep?: import("../model/trace.ts").TraceStep;
}

/** Reusable tracer data for one ruleset; see {@linkcode buildTraceIndex}. */
export interface TraceIndex {
  readonly ruleset: Ruleset;
  /**
   * Tracer data of the chains reached so far, by table and name. Filled on first use: a node with
   * 300k chains pays nothing for the chains no trace reaches.
   */
  readonly chains: Map<TableName, Map<string, ChainInfo>>;
  /** Built-in chains by table and name, looked up on every hook of every trace. */
  readonly builtins: Map<TableName, Map<string, ChainInfo>>;
  /** Chains whose dispatch index was built. */
  indexedChains: number;
  /** False when every chain is scanned linearly. */
  readonly dispatch: boolean;
}

/**
 * Prepares a ruleset for many traces: every long chain gets its dispatch index now (the rest is
 * compiled lazily on first use). Cheap: destinations are read from each rule's text prefix, and a
 * rule is fully parsed only when its destination is not written there. Short chains get no data
 * until a trace reaches them.
 *
 * @example
 * ```ts
 * const index = buildTraceIndex(ruleset);
 * for (const packet of packets) tracePacket(ruleset, { packet, from: "pod" }, { index });
 * ```
 */
export function buildTraceIndex(
  ruleset: Ruleset,
  options: {
    /** Build dispatch indexes now (default) or on first use of each long chain. */
    readonly eager?: boolean;
    /** False scans every chain linearly (the reference behaviour the index is tested against). */
    readonly dispatch?: boolean;
  } = {},
): TraceIndex {
  const chains = new Map<TableName, Map<string, ChainInfo>>();
  const builtins = new Map<TableName, Map<string, ChainInfo>>();
  const index: TraceIndex = {
    ruleset,
    chains,
    builtins,
    indexedChains: 0,
    dispatch: options.dispatch !== false,
  };
  for (const [name, table] of ruleset.tables) {
    chains.set(name, new Map());
    const own = new Map<string, ChainInfo>();
    for (const chain of table.chains.values()) {
      if (chain.builtin) own.set(chain.name, chainInfo(index, name, chain.name)!);
      else if (index.dispatch && options.eager !== false && chain.rules.length >= INDEX_MIN_RULES) {
        chainInfo(index, name, chain.name);
      }
    }
    builtins.set(name, own);
  }
  if (options.eager !== false) {
    for (const infos of chains.values()) {
      for (const info of infos.values()) {
        if (info.index === null) {
          info.index = buildChainIndex(info.chain);
          index.indexedChains++;
        }
      }
    }
  }
  return index;
}

/** The tracer data of a chain, created on first use; undefined when the table has no such chain. */
export function chainInfo(index: TraceIndex, table: TableName, name: string): ChainInfo | undefined {
  const infos = index.chains.get(table);
  if (infos === undefined) return undefined;
  let info = infos.get(name);
  if (info === undefined) {
    const chain = index.ruleset.tables.get(table)?.chains.get(name);
    if (chain === undefined) return undefined;
    info = {
      table,
      chain,
      length: chain.rules.length,
      compiled: undefined,
      index: index.dispatch && chain.rules.length >= INDEX_MIN_RULES ? null : undefined,
    };
    infos.set(name, info);
  }
  return info;
}

/** The compiled form of rule `i` of a chain, compiled on first use. */
export function compiledRule(index: TraceIndex, info: ChainInfo, i: number): CompiledRule {
  const compiled = info.compiled;
  if (compiled !== undefined) {
    const c = compiled[i];
    if (c !== undefined) return c;
  }
  return compileOnFirstUse(index, info, i);
}

function compileOnFirstUse(index: TraceIndex, info: ChainInfo, i: number): CompiledRule {
  const table = index.ruleset.tables.get(info.table)!;
  const isChain = (name: string) => table.chains.has(name);
  const rules = info.chain.rules;
  let compiled = info.compiled;
  if (compiled === undefined) {
    // Preallocated: writing at scattered indexes of an empty array turns it into a slow dictionary.
    compiled = new Array<CompiledRule | undefined>(rules.length);
    info.compiled = compiled;
    // A short chain is compiled whole on first use: its rules then sit together in memory, which
    // matters when each trace reaches other chains of a large ruleset.
    if (info.index === undefined && rules.length < INDEX_MIN_RULES) {
      for (let j = 0; j < rules.length; j++) compiled[j] = compileRule(rules[j]!, isChain);
      return compiled[i]!;
    }
  }
  const c = compileRule(rules[i]!, isChain);
  compiled[i] = c;
  return c;
}

/** Rule positions to visit for a packet with this destination, in rule order; null means all. */
export function candidateRules(info: ChainInfo, dst: number, dport: number): readonly number[] | null {
  if (info.index === undefined) return null;
  if (info.index === null) info.index = buildChainIndex(info.chain);
  const { byDst, byDport, generic, merged } = info.index;
  if (info.index.premerged) return byDst.get(dst) ?? generic;
  const a = byDst.get(dst);
  const b = dport >= 0 ? byDport.get(dport) : undefined;
  if (a === undefined && b === undefined) return generic;
  if (b === undefined && generic.length === 0) return a!;
  if (a === undefined && generic.length === 0) return b!;
  // Merged lists are cached per key: traces to one Service reuse them (bounded by the chain's size).
  const key = a === undefined ? -1 - (b === undefined ? 0 : dport) : b === undefined ? dst : -1;
  if (key !== -1) {
    const hit = merged.get(key);
    if (hit !== undefined) return hit;
  }
  const list = mergeSorted(mergeSorted(a ?? [], b ?? []), generic);
  if (key !== -1) merged.set(key, list);
  return list;
}

function mergeSorted(x: readonly number[], y: readonly number[]): number[] {
  if (x.length === 0) return y as number[];
  if (y.length === 0) return x as number[];
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) out.push(x[i]! <= y[j]! ? x[i++]! : y[j++]!);
  while (i < x.length) out.push(x[i++]!);
  while (j < y.length) out.push(y[j++]!);
  return out;
}

/**
 * The `-d` of a rule when it is a single non-negated host address, read from the text before the
 * first `-m`/`-j`/`-g` (iptables-save writes addresses there, unquoted). Returns null when the
 * rule does not constrain its destination that way, undefined when only a full parse can tell.
 */
function hostDestination(rule: Rule): number | null | undefined {
  const text = rule.text;
  // Character scans, no token arrays: this runs for every rule of every long chain. Only the text
  // before the first " -d " is searched for the markers (backwards, so a short prefix costs little).
  const i = text.indexOf(" -d ");
  if (i < 0) return text.includes(" --destination ") || text.includes(" --dst ") ? undefined : null;
  for (const marker of PREFIX_END) if (text.lastIndexOf(marker, i) >= 0) return undefined;
  if (text.startsWith(" !", i - 2)) return null;
  const stop = text.indexOf(" ", i + 4);
  const cidr = parseCidr(text.slice(i + 4, stop < 0 ? text.length : stop));
  return cidr !== undefined && cidr.prefix === 32 ? cidr.base : null;
}

const PREFIX_END = [" -m ", " -j ", " -g ", " --match ", " --jump ", " --goto "];

/** True when position `i` of `text` lies outside double quotes (backslash escapes honoured). */
function outsideQuotes(text: string, i: number): boolean {
  let inside = false;
  for (let j = text.indexOf('"'); j >= 0 && j < i; j = text.indexOf('"', j + 1)) {
    if (text.charCodeAt(j - 1) !== 92) inside = !inside;
  }
  return !inside;
}

function keyFromSpec(rule: Rule): { dst?: number; dport?: number } {
  let spec: Rule["spec"];
  try {
    spec = specOf(rule);
  } catch {
    return {};
  }
  const d = spec.destination;
  if (d !== undefined && !d.negated) {
    const cidr = parseCidr(d.value);
    if (cidr !== undefined && cidr.prefix === 32) return { dst: cidr.base };
  }
  for (const m of spec.matches) {
    if (m.module !== "tcp" && m.module !== "udp" && m.module !== "sctp") continue;
    for (const o of m.options) {
      if (
        (o.name === "--dport" || o.name === "--destination-port") &&
        !o.negated &&
        /^\d+$/.test(o.values[0] ?? "")
      ) {
        return { dport: Number(o.values[0]) };
      }
    }
  }
  return {};
}

/**
 * The single non-negated `--dport N` of a rule's text (quoted values blanked out first, so a
 * comment cannot fake one); null when it has none, undefined when only a full parse can tell.
 */
function destinationPort(text: string): number | null | undefined {
  if (text.includes("--destination-port")) return undefined;
  let found = -1;
  for (let i = text.indexOf(" --dport "); i >= 0; i = text.indexOf(" --dport ", i + 1)) {
    if (!outsideQuotes(text, i)) continue;
    if (found >= 0) return undefined;
    found = i;
  }
  if (found < 0) return null;
  if (text.startsWith(" !", found - 2)) return null;
  const m = /^ --dport (\d+)(?: |$)/.exec(text.slice(found, found + 16));
  return m === null ? null : Number(m[1]);
}

function push(map: Map<number, number[]>, key: number, i: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [i]);
  else list.push(i);
}

function buildChainIndex(chain: Chain): ChainIndex {
  const byDst = new Map<number, number[]>();
  const byDport = new Map<number, number[]>();
  const rest: number[] = [];
  // Leaked duplicates (k3s-io/k3s#3117) repeat one rule's text thousands of times: reuse the answer.
  let prevText: string | undefined;
  let prevDst: number | null | undefined;
  chain.rules.forEach((rule, i) => {
    const d = rule.text === prevText ? prevDst : hostDestination(rule);
    prevText = rule.text;
    prevDst = d;
    if (typeof d === "number") push(byDst, d, i);
    else if (d === undefined) {
      const key = keyFromSpec(rule);
      if (key.dst !== undefined) push(byDst, key.dst, i);
      else rest.push(i);
    } else rest.push(i);
  });
  // Long chains without destinations (KUBE-NODEPORTS) dispatch on the destination port instead.
  let generic = rest;
  if (rest.length >= INDEX_MIN_RULES) {
    generic = [];
    let prevPortText: string | undefined;
    let prevPort: number | undefined;
    for (const i of rest) {
      const rule = chain.rules[i]!;
      let dport: number | null | undefined;
      if (rule.text === prevPortText) dport = prevPort;
      else {
        const fast = destinationPort(rule.text);
        dport = fast === undefined ? keyFromSpec(rule).dport : fast;
        prevPortText = rule.text;
        prevPort = dport ?? undefined;
      }
      if (typeof dport === "number") push(byDport, dport, i);
      else generic.push(i);
    }
  }
  const premerged = byDport.size === 0 && generic.length <= PREMERGE_MAX;
  if (premerged && generic.length > 0) {
    for (const [key, list] of byDst) byDst.set(key, mergeSorted(list, generic));
  }
  return { byDst, byDport, generic, merged: new Map(), premerged };
}
