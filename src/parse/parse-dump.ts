import type {
  Chain,
  Counters,
  ParseWarning,
  Rule,
  RuleSpec,
  Ruleset,
  Table,
  TableName,
} from "../model/ruleset.ts";
import { DumpReader, type DumpReaderOptions } from "./dump-reader.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { KNOWN_TARGETS } from "./known-extensions.ts";
import { parseRule } from "./parse-rule.ts";

/** Options of {@linkcode parseDump}. */
export interface ParseDumpOptions extends DumpReaderOptions {
  /**
   * Parse each rule's options only when first used (default false). A lazy parse
   * of a million-rule dump keeps memory low; warnings about unknown modules and
   * targets are then not collected, and a malformed rule throws when used.
   */
  readonly lazy?: boolean;
}

/** The `[packets:bytes] ` prefix of `iptables-save -c` lines. */
const COUNTER_PREFIX = /^\[(\d+):(\d+)\] /;

/**
 * A rule whose options are parsed on first use. A million-rule dump makes a million of these, so
 * it keeps only what cannot be derived: its chain (which knows the table and chain name), position,
 * line, and where its line is: `source` from `start` to the next newline or the end (a chunk of the
 * dump, so no sliced string per rule, or the line itself). `raw`, `text` and `counters` are derived
 * on use (the `[p:b] ` prefix is the only difference between raw and text); rules where they cannot
 * be (`iptables -S -v` puts `-c P B` inside the rule) are {@linkcode SplitDumpRule}s.
 */
class DumpRule implements Rule {
  readonly #chain: Chain;
  readonly index: number;
  readonly line: number;
  readonly #source: string;
  readonly #start: number;
  #spec: RuleSpec | undefined;

  constructor(chain: Chain, index: number, line: number, source: string, start: number) {
    this.#chain = chain;
    this.index = index;
    this.line = line;
    this.#source = source;
    this.#start = start;
    this.#spec = undefined;
  }

  get table(): TableName {
    return this.#chain.table;
  }

  get chain(): string {
    return this.#chain.name;
  }

  get raw(): string {
    const source = this.#source;
    const start = this.#start;
    const end = source.indexOf("\n", start);
    if (end >= 0) return source.slice(start, end);
    return start === 0 ? source : source.slice(start);
  }

  get text(): string {
    const raw = this.raw;
    return raw.charCodeAt(0) === 91 /* [ */ ? raw.slice(raw.indexOf("] ") + 2) : raw;
  }

  /**
   * Typed as always present because a getter cannot be declared optional under
   * `exactOptionalPropertyTypes`; reading `Rule.counters` sees `Counters | undefined` either way.
   */
  get counters(): Counters {
    if (this.#source.charCodeAt(this.#start) !== 91) return undefined as unknown as Counters;
    const m = COUNTER_PREFIX.exec(this.raw)!;
    return { packets: m[1]!, bytes: m[2]! };
  }

  get spec(): RuleSpec {
    if (this.#spec === undefined) this.#spec = parseRule(this.text, this.line).spec;
    return this.#spec;
  }

  toJSON(): object {
    return { table: this.table, chain: this.chain, index: this.index, line: this.line, raw: this.raw };
  }
}

/** A rule whose text and counters are not `raw` minus a prefix (`iptables -S -v`'s inner `-c P B`). */
class SplitDumpRule extends DumpRule {
  readonly #text: string;
  readonly #counters: Counters | undefined;

  constructor(chain: Chain, index: number, line: number, raw: string, text: string, counters?: Counters) {
    super(chain, index, line, raw, 0);
    this.#text = text;
    this.#counters = counters;
  }

  override get text(): string {
    return this.#text;
  }

  override get counters(): Counters {
    return this.#counters as Counters;
  }
}

/** Whether `text` and `counters` are what {@linkcode DumpRule} derives from `raw`. */
function derivable(raw: string, text: string, counters: Counters | undefined): boolean {
  if (counters === undefined) return text === raw;
  if (raw.charCodeAt(0) !== 91) return false;
  const m = COUNTER_PREFIX.exec(raw);
  return (
    m !== null &&
    m[1] === counters.packets &&
    m[2] === counters.bytes &&
    text.length === raw.length - m[0].length &&
    raw.endsWith(text)
  );
}

/**
 * Parses `iptables-save` output (all tables, with or without `-c`) into a {@linkcode Ruleset}.
 * Accepts a whole string or an iterable of chunks.
 *
 * @example
 * ```ts
 * const rs = parseDump("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j ACCEPT\nCOMMIT\n");
 * rs.ruleCount; // 1
 * ```
 * @throws {DumpSyntaxError} When the dump is structurally broken.
 */
export function parseDump(input: string | Iterable<string>, options: ParseDumpOptions = {}): Ruleset {
  const builder = new RulesetBuilder(options);
  if (typeof input === "string") builder.reader.push(input);
  else for (const chunk of input) builder.reader.push(chunk);
  return builder.finish();
}

/** Like {@linkcode parseDump} for an async stream of chunks (a file or a pipe). */
export async function parseDumpStream(
  input: AsyncIterable<string>,
  options: ParseDumpOptions = {},
): Promise<Ruleset> {
  const builder = new RulesetBuilder(options);
  for await (const chunk of input) builder.reader.push(chunk);
  return builder.finish();
}

/** The result of {@linkcode tryParseDump}. */
export type ParseDumpResult = { ok: true; value: Ruleset } | { ok: false; error: DumpSyntaxError };

/** Like {@linkcode parseDump}, but returns the syntax error instead of throwing it. */
export function tryParseDump(
  input: string | Iterable<string>,
  options: ParseDumpOptions = {},
): ParseDumpResult {
  try {
    return { ok: true, value: parseDump(input, options) };
  } catch (error) {
    if (error instanceof DumpSyntaxError) return { ok: false, error };
    throw error;
  }
}

/**
 * Chain names of the components netdoctor knows (kube-proxy and kubelet `KUBE-*`, flannel, Calico,
 * CNI portmap, Docker). A jump to such a name that the dump does not declare is a missing chain,
 * not an unknown target extension: iptables-restore refuses a jump to a chain that exists nowhere, so
 * the text comes from restore input that relies on a chain another component made (kube-proxy's own
 * test dumps jump to kubelet's KUBE-MARK-DROP). That is a finding for diagnose (`chain-undefined`),
 * which sees the whole ruleset, so the parser does not warn about it.
 */
const COMPONENT_CHAIN = /^(?:KUBE-|FLANNEL-|cali-|CNI-|DOCKER)/;

class RulesetBuilder {
  readonly reader: DumpReader;
  readonly #tables = new Map<TableName, Table>();
  readonly #warnings: ParseWarning[] = [];
  readonly #lazy: boolean;
  #pending: DumpRule[] = [];
  /** The chain of the last rule: rules come chain by chain, so most need no lookup. */
  #lastChain: Chain | undefined;
  /**
   * The rules of `#lastChain` read since it became the last chain. They are moved into the chain's
   * array in one copy when another chain starts, so every array has its exact size: an array that
   * grows by push keeps half again plus 16 slots, and a node's hundreds of thousands of one- and
   * two-rule kube-proxy chains would keep about 17 slots each (and leave the grown copies as garbage).
   */
  readonly #run: DumpRule[] = [];

  constructor(options: ParseDumpOptions) {
    this.#lazy = options.lazy ?? false;
    this.reader = new DumpReader(
      {
        table: (name, line) => {
          this.#tables.set(name, { name, line, commitLine: 0, chains: new Map() });
        },
        chain: (decl) => {
          const chain: Chain = {
            name: decl.name,
            table: decl.table,
            counters: decl.counters,
            builtin: decl.builtin,
            line: decl.line,
            rules: [],
            ...(decl.policy === undefined ? {} : { policy: decl.policy }),
          };
          this.#tables.get(decl.table)!.chains.set(decl.name, chain);
        },
        ruleAt: (tableName, chainName, index, line, source, start) => {
          this.#add(new DumpRule(this.#chainFor(tableName, chainName), index, line, source, start));
        },
        ruleParts: (tableName, chainName, index, line, raw, text, counters) => {
          const chain = this.#chainFor(tableName, chainName);
          this.#add(
            (counters === undefined && text === raw) || derivable(raw, text, counters)
              ? new DumpRule(chain, index, line, raw, 0)
              : new SplitDumpRule(chain, index, line, raw, text, counters),
          );
        },
        commit: (name, line) => {
          const table = this.#tables.get(name)!;
          table.commitLine = line;
          this.#flushRun();
          if (!this.#lazy) this.#checkRules(table);
        },
        warning: (w) => this.#warnings.push(w),
      },
      options,
    );
  }

  /** Parses every rule of a committed table: targets are checked against the table's chains. */
  #checkRules(table: Table): void {
    const unknownSeen = new Set<string>();
    for (const rule of this.#pending) {
      const spec = rule.spec;
      for (const m of spec.matches) {
        if (!m.known && !unknownSeen.has(`m:${m.module}`)) {
          unknownSeen.add(`m:${m.module}`);
          this.#warnings.push({
            line: rule.line,
            text: rule.text,
            reason: `Unknown match module "${m.module}" is kept as written and not evaluated`,
            kind: "unknown-module",
          });
        }
      }
      const target = spec.target;
      if (
        target !== undefined &&
        !KNOWN_TARGETS.has(target.name) &&
        !table.chains.has(target.name) &&
        !COMPONENT_CHAIN.test(target.name)
      ) {
        if (!unknownSeen.has(`t:${target.name}`)) {
          unknownSeen.add(`t:${target.name}`);
          this.#warnings.push({
            line: rule.line,
            text: rule.text,
            reason: `Unknown target "${target.name}" (not a known extension nor a chain of table "${table.name}") is kept as written`,
            kind: "unknown-target",
          });
        }
      }
    }
    this.#pending = [];
  }

  /** The chain a rule belongs to; rules come chain by chain, so most need no lookup. */
  #chainFor(table: TableName, name: string): Chain {
    const last = this.#lastChain;
    if (last !== undefined && last.name === name && last.table === table) return last;
    this.#flushRun();
    const chain = this.#tables.get(table)!.chains.get(name)!;
    this.#lastChain = chain;
    return chain;
  }

  #add(rule: DumpRule): void {
    this.#run.push(rule);
    if (!this.#lazy) this.#pending.push(rule);
  }

  /** Moves the rules of the last chain into its array (see `#run`). */
  #flushRun(): void {
    const chain = this.#lastChain;
    const run = this.#run;
    if (chain !== undefined && run.length > 0) {
      if (chain.rules.length === 0) (chain as { rules: Rule[] }).rules = run.slice();
      else for (const rule of run) chain.rules.push(rule);
    }
    run.length = 0;
    this.#lastChain = undefined;
  }

  finish(): Ruleset {
    this.reader.end();
    this.#flushRun();
    this.#warnings.sort((a, b) => a.line - b.line);
    return {
      header: this.reader.header,
      tables: this.#tables,
      warnings: this.#warnings,
      ruleCount: this.reader.ruleCount,
      lineCount: this.reader.lineCount,
    };
  }
}
