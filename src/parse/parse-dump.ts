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
import { DumpReader, type DumpReaderOptions, type RuleLine } from "./dump-reader.ts";
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

/** A rule whose options are parsed on first use. */
class DumpRule implements Rule {
  readonly table: TableName;
  readonly chain: string;
  readonly index: number;
  readonly line: number;
  readonly raw: string;
  readonly text: string;
  readonly counters?: Counters;
  #spec: RuleSpec | undefined;

  constructor(line: RuleLine, spec?: RuleSpec) {
    this.table = line.table;
    this.chain = line.chain;
    this.index = line.index;
    this.line = line.line;
    this.raw = line.raw;
    this.text = line.text;
    if (line.counters !== undefined) this.counters = line.counters;
    this.#spec = spec;
  }

  get spec(): RuleSpec {
    if (this.#spec === undefined) this.#spec = parseRule(this.text, this.line).spec;
    return this.#spec;
  }

  toJSON(): object {
    return { table: this.table, chain: this.chain, index: this.index, line: this.line, raw: this.raw };
  }
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
        rule: (line) => {
          const rule = new DumpRule(line);
          this.#tables.get(line.table)!.chains.get(line.chain)!.rules.push(rule);
          if (!this.#lazy) this.#pending.push(rule);
        },
        commit: (name, line) => {
          const table = this.#tables.get(name)!;
          table.commitLine = line;
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

  finish(): Ruleset {
    this.reader.end();
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
