import type { DumpHeader, ParseWarning, TableName } from "../model/ruleset.ts";
import type { DumpHandler, RuleLine } from "../parse/dump-reader.ts";
import { type RuleOwner, ruleOwner } from "./rule-owner.ts";

/** How many line numbers a duplicate group keeps as evidence. */
const SAMPLE_LINES = 5;
/** A chain run longer than this gets a hash index; shorter runs are searched linearly. */
const LINEAR_SEARCH_MAX = 12;

/** Exact copies of one rule (same table, chain and text). */
export interface DuplicateGroup {
  readonly table: TableName;
  readonly chain: string;
  /** The rule text `-A CHAIN ...`. */
  readonly rule: string;
  readonly count: number;
  readonly owner: RuleOwner;
  /** The first few lines where the rule appears, first copy first. */
  readonly lines: readonly number[];
}

/** Rules (`-A` lines) and declared chains of one table. */
export interface TableCounts {
  rules: number;
  chains: number;
}

/** What `scan` reports for one node's dump. */
export interface NodeScan {
  readonly node: string;
  /** The dump's path as given, for evidence. */
  readonly file: string;
  readonly header: DumpHeader;
  /** Number of `-A` lines. */
  readonly rules: number;
  readonly chains: number;
  readonly tables: Partial<Record<TableName, TableCounts>>;
  readonly duplicates: {
    /** Sum over groups of (count - 1): the rules that could go. */
    readonly extraRules: number;
    readonly byOwner: Partial<Record<RuleOwner, number>>;
    /** Largest groups first. */
    readonly groups: readonly DuplicateGroup[];
  };
  readonly warnings: readonly ParseWarning[];
}

/** Options of {@linkcode NodeScanner}. */
export interface NodeScannerOptions {
  /**
   * Keep every rule text until the end (default false). Needed only when a chain's rules are not
   * contiguous (hand-written dumps): `iptables-save` and `iptables -S` print each chain's rules
   * together, so by default a chain's texts are dropped as soon as the next chain starts.
   */
  readonly keepAllRules?: boolean;
}

/**
 * The distinct rule texts of one run of a chain with their counts. Short runs (kube-proxy's
 * KUBE-SVC/SEP chains hold 1-5 rules) are searched linearly; long ones get a Map. In fast mode one
 * run object is reused for every chain, so a million-rule dump allocates almost nothing here.
 */
class ChainRun {
  table: TableName;
  chain: string;
  /** Distinct texts of the run; only the first `size` entries are current (the arrays are reused). */
  readonly texts: string[] = [];
  readonly counts: number[] = [];
  readonly firstLines: number[] = [];
  size = 0;
  /** Evidence lines of the texts seen more than once, by index. */
  copies: Map<number, number[]> | undefined;
  #index: Map<string, number> | undefined;
  #last = -1;

  constructor(table: TableName, chain: string) {
    this.table = table;
    this.chain = chain;
  }

  /** Starts a new run, keeping the arrays' storage: most chains are short and come by the hundred thousand. */
  reset(table: TableName, chain: string): void {
    this.table = table;
    this.chain = chain;
    this.size = 0;
    this.copies = undefined;
    this.#index = undefined;
    this.#last = -1;
  }

  add(text: string, line: number): void {
    const texts = this.texts;
    const size = this.size;
    let at = -1;
    // Leaked copies usually sit next to each other: compare with the previous rule first.
    if (this.#last >= 0 && texts[this.#last] === text) at = this.#last;
    else if (this.#index !== undefined) at = this.#index.get(text) ?? -1;
    else {
      for (let k = 0; k < size; k++) {
        if (texts[k] === text) {
          at = k;
          break;
        }
      }
    }
    if (at < 0) {
      texts[size] = text;
      this.counts[size] = 1;
      this.firstLines[size] = line;
      this.size = size + 1;
      this.#last = size;
      if (this.#index !== undefined) this.#index.set(text, size);
      else if (size + 1 > LINEAR_SEARCH_MAX) {
        this.#index = new Map();
        for (let k = 0; k <= size; k++) this.#index.set(texts[k]!, k);
      }
      return;
    }
    this.#last = at;
    this.counts[at]!++;
    this.copies ??= new Map();
    const lines = this.copies.get(at);
    if (lines === undefined) this.copies.set(at, [this.firstLines[at]!, line]);
    else if (lines.length < SAMPLE_LINES) lines.push(line);
  }
}

/** Exact copies found in one chain run. */
interface RunGroup {
  readonly table: TableName;
  readonly chain: string;
  readonly rule: string;
  readonly count: number;
  readonly lines: number[];
}

/**
 * Accumulates the scan of one dump as it streams through a {@linkcode DumpReader}:
 * counts, and exact duplicates (same table, chain and text), without keeping the rules.
 *
 * Memory stays bounded by the largest chain: `iptables-save` prints each chain's rules together,
 * so a chain's texts are dropped when the next chain starts. If a chain's rules come back after
 * another chain (only hand-made dumps do this), the scanner keeps every text from then on and
 * {@linkcode NodeScanner.interleaved} becomes true: copies split across the earlier runs may then be
 * missed, and a warning says so. Scan such input again with `keepAllRules: true` to be exact
 * (`netdoctor scan` does this by itself).
 *
 * @example
 * ```ts
 * const scan = new NodeScanner();
 * const reader = new DumpReader(scan.handler);
 * reader.push(text); reader.end();
 * const result = scan.finish({ node: "w3", file: "w3.txt", header: reader.header });
 * ```
 */
export class NodeScanner {
  readonly #tables = new Map<TableName, TableCounts>();
  readonly #warnings: ParseWarning[] = [];
  readonly #done: RunGroup[] = [];
  /** Runs kept whole (keep-all mode), harvested at the end. */
  readonly #kept: ChainRun[] = [];
  /** Fast mode: the one run object reused for every chain. */
  readonly #spare = new ChainRun("filter", "");
  #keepAll: boolean;
  #interleaved = false;
  #rules = 0;
  #chains = 0;
  #table: TableName | undefined;
  #currentCounts: TableCounts | undefined;
  #run: ChainRun | undefined;
  /** Keep-all mode: the runs of the current table by chain. */
  #runs = new Map<string, ChainRun>();

  constructor(options: NodeScannerOptions = {}) {
    this.#keepAll = options.keepAllRules ?? false;
  }

  /** True when some chain's rules were not contiguous (see the class comment). */
  get interleaved(): boolean {
    return this.#interleaved;
  }

  readonly handler: DumpHandler = {
    table: (name) => {
      this.#closeRun();
      this.#table = name;
      this.#currentCounts = { rules: 0, chains: 0 };
      this.#tables.set(name, this.#currentCounts);
      this.#runs = new Map();
    },
    chain: () => {
      this.#chains++;
      this.#currentCounts!.chains++;
    },
    rule: (rule: RuleLine) => {
      this.#rules++;
      this.#currentCounts!.rules++;
      let run = this.#run;
      if (run === undefined || run.chain !== rule.chain) run = this.#switchRun(rule);
      run.add(rule.text, rule.line);
    },
    commit: () => {
      this.#closeRun();
    },
    warning: (w) => {
      this.#warnings.push(w);
    },
  };

  #switchRun(rule: RuleLine): ChainRun {
    this.#closeRun();
    const chain = rule.chain;
    let run: ChainRun | undefined;
    // A rule that is not its chain's first, arriving after another chain's rules: the chain is split.
    if (rule.index > 0 && !this.#keepAll) {
      this.#interleaved = true;
      this.#keepAll = true;
      this.#warnings.push({
        line: rule.line,
        text: rule.text,
        reason: `The rules of chain "${chain}" are not contiguous (iptables-save prints each chain's rules together); copies of a rule split across its earlier runs may be missed`,
        kind: "format",
      });
    }
    if (this.#keepAll) {
      run = this.#runs.get(chain);
      if (run === undefined) {
        run = new ChainRun(this.#table!, chain);
        this.#runs.set(chain, run);
        this.#kept.push(run);
      }
    } else {
      run = this.#spare;
      run.reset(this.#table!, chain);
    }
    this.#run = run;
    return run;
  }

  /** Ends the current chain run: in fast mode only its duplicated texts are kept. */
  #closeRun(): void {
    const run = this.#run;
    if (run === undefined) return;
    this.#run = undefined;
    if (!this.#keepAll) this.#harvest(run);
  }

  #harvest(run: ChainRun): void {
    if (run.copies === undefined) return;
    for (const [k, lines] of run.copies) {
      this.#done.push({
        table: run.table,
        chain: run.chain,
        rule: run.texts[k]!,
        count: run.counts[k]!,
        lines,
      });
    }
  }

  /** Builds the node's scan once the reader has ended. */
  finish(meta: { node: string; file: string; header: DumpHeader }): NodeScan {
    this.#closeRun();
    for (const run of this.#kept) this.#harvest(run);
    this.#kept.length = 0;
    // After an interleaved chain a text can have a group from its first run and one from a later run.
    const merged = new Map<
      string,
      { table: TableName; chain: string; rule: string; count: number; lines: number[] }
    >();
    for (const g of this.#done) {
      const key = `${g.table} ${g.rule}`;
      const seen = merged.get(key);
      if (seen === undefined) merged.set(key, { ...g });
      else {
        seen.count += g.count;
        seen.lines = [...seen.lines, ...g.lines].sort((a, b) => a - b).slice(0, SAMPLE_LINES);
      }
    }
    const groups: DuplicateGroup[] = [];
    const byOwner: Partial<Record<RuleOwner, number>> = {};
    let extraRules = 0;
    for (const g of merged.values()) {
      const owner = ruleOwner(g.chain, g.rule);
      groups.push({ table: g.table, chain: g.chain, rule: g.rule, count: g.count, owner, lines: g.lines });
      extraRules += g.count - 1;
      byOwner[owner] = (byOwner[owner] ?? 0) + g.count - 1;
    }
    groups.sort((a, b) => b.count - a.count || a.lines[0]! - b.lines[0]!);
    return {
      node: meta.node,
      file: meta.file,
      header: meta.header,
      rules: this.#rules,
      chains: this.#chains,
      tables: Object.fromEntries(this.#tables),
      duplicates: { extraRules, byOwner, groups },
      warnings: this.#warnings,
    };
  }
}
