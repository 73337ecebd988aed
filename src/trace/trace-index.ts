/**
 * Per-ruleset data the tracer reuses across traces: compiled rules (built on first use), the dispatch
 * indexes of long chains (chain-dispatch.ts), the cached steps of chain policies, and the file name
 * every step's evidence points at.
 */
import {
  type Chain,
  chainLength,
  type RuleAccess,
  type Ruleset,
  ruleAccess,
  type TableName,
} from "../model/ruleset.ts";
import type { FilterStep } from "../model/trace-step.ts";
import { buildChainIndex, INDEX_MIN_RULES } from "./chain-dispatch.ts";
import { type CompiledRule, compileRule } from "./compile-rule.ts";
import type { RulesetFamily } from "./ruleset-family.ts";

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
  /** No rule is keyed on the destination or its port: every rule is a candidate (the lists are empty). */
  readonly linear: boolean;
  /**
   * 1 at each rule whose text is the text of the rule before it (a leak's copies), or undefined when
   * the chain has none: a rule that does not match tells that its copies right after it do not.
   */
  readonly copies: Uint8Array | undefined;
}

export interface ChainInfo {
  readonly table: TableName;
  /** The chain's name, kept here: the tracer's hot data, unlike the parsed chain, stays in cache. */
  readonly name: string;
  readonly chain: Chain;
  /** The chain's rule count (read here, without touching the chain, on every walk). */
  readonly length: number;
  /** Compiled rules by position; allocated when the chain is first walked. */
  compiled: Array<CompiledRule | undefined> | undefined;
  /**
   * The chain's rules by position, each made when first compiled: a leak's chain of 200,000 copies
   * that a trace leaves at its first rule makes one rule object, not 200,000.
   */
  access: RuleAccess | undefined;
  /** Undefined for short chains; null until built. */
  index: ChainIndex | null | undefined;
  /** The policy's trace step, built on first use. */
  policyStep?: FilterStep;
}

/** Reusable tracer data for one ruleset; see {@linkcode buildTraceIndex}. */
export interface TraceIndex {
  readonly ruleset: Ruleset;
  /** The dump's file name, as every step's evidence names it (default `dump`). */
  readonly file: string;
  /** The dump's address family, found on the first trace (IPv6 dumps are refused). */
  family: RulesetFamily | undefined;
  /**
   * Tracer data of the chains reached so far, by table and name. Filled on first use: a node with
   * 300k chains pays nothing for the chains no trace reaches.
   */
  readonly chains: Map<TableName, Map<string, ChainInfo>>;
  /** Built-in chains by table and name. */
  readonly builtins: Map<TableName, Map<string, ChainInfo>>;
  /** The built-in chains each stage of hook-order.ts walks, by stage id (filled on first use). */
  readonly stages: Array<readonly ChainInfo[] | undefined>;
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
    /** The dump's file name for the steps' evidence (default `dump`). */
    readonly file?: string;
  } = {},
): TraceIndex {
  const chains = new Map<TableName, Map<string, ChainInfo>>();
  const builtins = new Map<TableName, Map<string, ChainInfo>>();
  const index: TraceIndex = {
    ruleset,
    file: options.file ?? "dump",
    family: undefined,
    chains,
    builtins,
    stages: [],
    indexedChains: 0,
    dispatch: options.dispatch !== false,
  };
  for (const [name, table] of ruleset.tables) {
    chains.set(name, new Map());
    const own = new Map<string, ChainInfo>();
    for (const chain of table.chains.values()) {
      if (chain.builtin) own.set(chain.name, chainInfo(index, name, chain.name)!);
      else if (index.dispatch && options.eager !== false && chainLength(chain) >= INDEX_MIN_RULES) {
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

/** Indexes handed out by {@linkcode sharedTraceIndex}, per ruleset and file name. */
const shared = new WeakMap<Ruleset, Map<string, TraceIndex>>();

/**
 * The one lazy index ({@linkcode buildTraceIndex} with `eager: false`) of a ruleset and file name:
 * the several traces of one diagnose question (the client's trace, the host path's rounds, the
 * walk's links) then build a long chain's dispatch index and compile its rules once (issue 14). The
 * index holds only what is derived from the ruleset, which is never changed once parsed; it goes
 * when the ruleset does.
 */
export function sharedTraceIndex(ruleset: Ruleset, file: string): TraceIndex {
  let byFile = shared.get(ruleset);
  if (byFile === undefined) shared.set(ruleset, (byFile = new Map()));
  let index = byFile.get(file);
  if (index === undefined) byFile.set(file, (index = buildTraceIndex(ruleset, { eager: false, file })));
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
    const length = chainLength(chain);
    info = {
      table,
      name,
      chain,
      length,
      compiled: undefined,
      access: undefined,
      index: index.dispatch && length >= INDEX_MIN_RULES ? null : undefined,
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
  let compiled = info.compiled;
  if (compiled === undefined) {
    // Preallocated: writing at scattered indexes of an empty array turns it into a slow dictionary.
    compiled = new Array<CompiledRule | undefined>(info.length);
    info.compiled = compiled;
    // A short chain is compiled whole on first use: its rules then sit together in memory, which
    // matters when each trace reaches other chains of a large ruleset.
    if (info.index === undefined && info.length < INDEX_MIN_RULES) {
      const rules = info.chain.rules;
      for (let j = 0; j < rules.length; j++) compiled[j] = compileRule(rules[j]!, isChain);
      return compiled[i]!;
    }
  }
  info.access ??= ruleAccess(info.chain);
  const c = compileRule(info.access.at(i), isChain);
  compiled[i] = c;
  return c;
}
