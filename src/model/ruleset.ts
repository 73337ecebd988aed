/**
 * The parsed form of an `iptables-save` dump. Every rule keeps its raw text and
 * its 1-indexed line so any conclusion can point back at the dump.
 */

/** The five iptables tables, in the order netfilter hooks consult them. */
export type TableName = "raw" | "mangle" | "nat" | "filter" | "security";

export const TABLE_NAMES: readonly TableName[] = ["raw", "mangle", "nat", "filter", "security"];

/** Built-in chains of each table (kernel order, as iptables-save prints them). */
export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly string[]>> = {
  raw: ["PREROUTING", "OUTPUT"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  security: ["INPUT", "FORWARD", "OUTPUT"],
};

/** Packet and byte counters, kept as the decimal strings iptables printed (they can exceed 2^53). */
export interface Counters {
  readonly packets: string;
  readonly bytes: string;
}

/** A value that may be negated with `!` (kube-proxy's IPTablesValue). */
export interface MatchValue {
  readonly negated: boolean;
  readonly value: string;
}

/** One option of a match or target, e.g. `! --dport 80` or `--match-set NAME dst,dst`. */
export interface RuleOption {
  /** The option with its dashes, e.g. `--dport`. */
  readonly name: string;
  readonly negated: boolean;
  /** The option's arguments, unquoted; empty for flags such as `--rcheck`. */
  readonly values: readonly string[];
}

/** A `-m MODULE` match (or an implicit protocol match) with its options in written order. */
export interface Match {
  readonly module: string;
  readonly options: readonly RuleOption[];
  /** False when netdoctor does not know this module: it is kept opaque, never dropped. */
  readonly known: boolean;
}

/** The rule's verdict or jump: `-j NAME` or `-g NAME` with the target's options. */
export interface Target {
  readonly name: string;
  /** `goto` for `-g`: a RETURN from the goto'd chain returns past the calling chain. */
  readonly kind: "jump" | "goto";
  readonly options: readonly RuleOption[];
}

/** The parsed parameters of one rule. */
export interface RuleSpec {
  readonly source?: MatchValue;
  readonly destination?: MatchValue;
  readonly inInterface?: MatchValue;
  readonly outInterface?: MatchValue;
  readonly protocol?: MatchValue;
  /** `-f` / `! -f`: second and later fragments. */
  readonly fragment?: MatchValue;
  readonly matches: readonly Match[];
  /** Absent for a rule without `-j`/`-g` (it only counts packets). */
  readonly target?: Target;
  /** The first `-m comment --comment` value, unquoted. */
  readonly comment?: string;
}

/** Where a rule sits, so every claim can point at a line of the dump. */
export interface RuleRef {
  readonly table: TableName;
  readonly chain: string;
  /** 0-based position of the rule within its chain. */
  readonly index: number;
  /** 1-indexed line in the dump. */
  readonly line: number;
}

/** One `-A` line. `spec` is parsed from `text` on first use and cached. */
export interface Rule extends RuleRef {
  /** The line exactly as it appeared in the dump (with any `[p:b]` prefix). */
  readonly raw: string;
  /** The rule without a counter prefix: `-A CHAIN ...`; duplicates are compared on this. */
  readonly text: string;
  /** The `[packets:bytes]` prefix written by `iptables-save -c`. */
  readonly counters?: Counters;
  readonly spec: RuleSpec;
}

/** A `:NAME POLICY [p:b]` declaration and the chain's rules in evaluation order. */
export interface Chain {
  readonly name: string;
  readonly table: TableName;
  /** `ACCEPT` or `DROP` for built-in chains; undefined for user chains (`-`). */
  readonly policy?: "ACCEPT" | "DROP";
  readonly counters: Counters;
  readonly builtin: boolean;
  /** 1-indexed line of the declaration (0 when the chain was implied, as in `iptables -S` input). */
  readonly line: number;
  /**
   * The rules in order. A parsed dump's chain makes its rule objects when this is first read, so
   * code that only needs the count should use {@linkcode chainLength}.
   */
  readonly rules: Rule[];
  /** Number of rules, when the chain knows it without making its rule objects (a parsed dump's chains do). */
  readonly ruleCount?: number;
  /**
   * The `text` of every rule in order, when the chain can give them cheaper than its rules one by
   * one (a parsed dump's chain makes one string for a run of identical rules, as a leak writes them).
   */
  ruleTexts?(): string[];
  /** The rules as runs of identical texts, when the chain can give them without a string per rule. */
  ruleRuns?(): RuleRuns;
  /** The rules' lines, and a rule by position made only when asked for (see {@linkcode RuleAccess}). */
  ruleAccess?(): RuleAccess;
}

/**
 * A chain's rules as runs of rules with the same text right after each other (a leak's copies are
 * one run): run `r` is the rules from position `starts[r]` to `starts[r + 1]` (or the chain's end),
 * each with the text `texts[r]`. Two runs next to each other may have the same text.
 */
export interface RuleRuns {
  readonly starts: Int32Array;
  readonly texts: readonly string[];
}

/** The runs of a chain: its own when it has them, else from its rules' texts. */
export function ruleRuns(chain: Chain): RuleRuns {
  if (chain.ruleRuns !== undefined) return chain.ruleRuns();
  return runsOfTexts(chain.ruleTexts?.() ?? chain.rules.map((r) => r.text));
}

/** The texts of the `count` rules that `runs` are the runs of, in order (a run's rules share its string). */
export function textsOfRuns(runs: RuleRuns, count: number): string[] {
  const { starts, texts } = runs;
  const out = new Array<string>(count);
  for (let r = 0; r < texts.length; r++) out.fill(texts[r]!, starts[r]!, starts[r + 1] ?? count);
  return out;
}

/** The runs of rules with these texts, in order. */
export function runsOfTexts(all: readonly string[]): RuleRuns {
  const starts: number[] = [];
  const texts: string[] = [];
  for (let i = 0; i < all.length; i++) {
    if (i > 0 && all[i] === all[i - 1]) continue;
    starts.push(i);
    texts.push(all[i]!);
  }
  return { starts: Int32Array.from(starts), texts };
}

/**
 * A chain's rules without an object per rule: code that visits a leak's hundreds of thousands of
 * copies but looks closely at few of them (fix duplicates) reads their lines and makes the few.
 */
export interface RuleAccess {
  /** Each rule's 1-indexed line, in chain order (a parsed chain makes the array on first use). */
  readonly lines: ArrayLike<number>;
  /** The line of the rule at `index`, without making `lines` (a leak's copies may be a million). */
  lineAt(index: number): number;
  /** The rule at `index` (a parsed chain may make a new object per call). */
  at(index: number): Rule;
}

/** The rule access of a chain: its own when it has one, else over its rule objects. */
export function ruleAccess(chain: Chain): RuleAccess {
  if (chain.ruleAccess !== undefined) return chain.ruleAccess();
  const rules = chain.rules;
  return rulesAccess(rules);
}

/** The access of a chain whose rules are made. */
export function rulesAccess(rules: readonly Rule[]): RuleAccess {
  const lines = rules.map((r) => r.line);
  return { lines, lineAt: (index) => lines[index]!, at: (index) => rules[index]! };
}

/** Number of rules of a chain, without making a parsed chain's rule objects. */
export function chainLength(chain: Chain): number {
  return chain.ruleCount ?? chain.rules.length;
}

export interface Table {
  readonly name: TableName;
  /** 1-indexed line of `*name`. */
  readonly line: number;
  /** 1-indexed line of `COMMIT`. */
  commitLine: number;
  /** Chains in declaration order (read-only: a parsed table's map is a view over the dump's names). */
  readonly chains: ReadonlyMap<string, Chain>;
}

/** The `iptables` variant that wrote the dump. */
export type Backend = "legacy" | "nf_tables" | "unknown";

/** What the `# Generated by ...` line says. */
export interface DumpHeader {
  /** e.g. `iptables-save`, `xtables-save`, `iptables-nft-save`, `iptables-legacy-save`. */
  readonly program?: string;
  readonly version?: string;
  readonly backend: Backend;
  /** Line of the first `# Generated by` comment. */
  readonly line?: number;
}

/** Something the parser kept but could not fully understand, or a message iptables printed. */
export interface ParseWarning {
  readonly line: number;
  readonly text: string;
  readonly reason: string;
  /**
   * `notice` lines are messages iptables itself printed (e.g. legacy tables present); `truncated`
   * says the input ends inside a table (a cut paste read as far as it goes).
   */
  readonly kind: "unknown-module" | "unknown-target" | "notice" | "format" | "truncated";
}

export interface Ruleset {
  readonly header: DumpHeader;
  readonly tables: Map<TableName, Table>;
  readonly warnings: ParseWarning[];
  /** Number of `-A` lines. */
  readonly ruleCount: number;
  /** Number of lines read. */
  readonly lineCount: number;
}
