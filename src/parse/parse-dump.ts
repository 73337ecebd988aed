import type { ParseWarning, Rule, Ruleset, Table, TableName } from "../model/ruleset.ts";
import type { ChainView } from "./chain-view.ts";
import { DumpChain, TableRules } from "./dump-chain.ts";
import { type DumpHandler, DumpReader, type DumpReaderOptions } from "./dump-reader.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { KNOWN_TARGETS } from "./known-extensions.ts";
import { parseRule } from "./parse-rule.ts";
import { ParsedChains } from "./parsed-chains.ts";
import { RuleStore } from "./rule-store.ts";

/** Options of {@linkcode parseDump}. */
export interface ParseDumpOptions extends DumpReaderOptions {
  /**
   * Parse each rule's options only when first used (default false). A lazy parse
   * of a million-rule dump keeps memory low; warnings about unknown modules and
   * targets are then not collected, and a malformed rule throws when used.
   */
  readonly lazy?: boolean;
  /** About how many rules the dump holds, when known (from its size): memory is then sized at once. */
  readonly expectedRules?: number;
  /**
   * The chunks given to the reader are overwritten once read (a file read into one reused buffer):
   * the ruleset then keeps its own copy of the rules' lines, one per distinct line of a chain's run
   * of copies (a leak's 100,000s of copies share one), instead of holding every chunk.
   */
  readonly reusedChunks?: boolean;
}

/**
 * Parses `iptables-save` output (all tables, with or without `-c`) into a {@linkcode Ruleset}.
 * Accepts a whole string, UTF-8 bytes, or an iterable of chunks of either.
 *
 * @example
 * ```ts
 * const rs = parseDump("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j ACCEPT\nCOMMIT\n");
 * rs.ruleCount; // 1
 * ```
 * @throws {DumpSyntaxError} When the dump is structurally broken.
 */
export function parseDump(
  input: string | Uint8Array | Iterable<string | Uint8Array>,
  options: ParseDumpOptions = {},
): Ruleset {
  const builder = new RulesetBuilder(options);
  const reader = new DumpReader(builder.handler, options);
  if (typeof input === "string" || input instanceof Uint8Array) reader.push(input);
  else for (const chunk of input) reader.push(chunk);
  reader.end();
  return builder.finish(reader);
}

/** Like {@linkcode parseDump} for an async stream of chunks (a file or a pipe). */
export async function parseDumpStream(
  input: AsyncIterable<string | Uint8Array>,
  options: ParseDumpOptions = {},
): Promise<Ruleset> {
  const builder = new RulesetBuilder(options);
  const reader = new DumpReader(builder.handler, options);
  for await (const chunk of input) reader.push(chunk);
  reader.end();
  return builder.finish(reader);
}

/** The result of {@linkcode tryParseDump}. */
export type ParseDumpResult = { ok: true; value: Ruleset } | { ok: false; error: DumpSyntaxError };

/** Like {@linkcode parseDump}, but returns the syntax error instead of throwing it. */
export function tryParseDump(
  input: string | Uint8Array | Iterable<string | Uint8Array>,
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

/**
 * Builds a {@linkcode Ruleset} from a {@linkcode DumpReader} pass; its handler can ride along other
 * handlers in the same pass (`composeHandlers`), so a dump that is scanned and parsed is read once.
 *
 * A rule costs 16 bytes while the dump is read (its line, where its bytes are, the next rule of its
 * chain); a chain makes its {@linkcode Rule} objects when its `rules` are first read, so a tracer that
 * visits a few chains of a million-rule dump never pays for the others.
 *
 * @example
 * ```ts
 * const builder = new RulesetBuilder({ lazy: true });
 * const reader = new DumpReader(composeHandlers(builder.handler, scanner.handler));
 * reader.push(bytes); reader.end();
 * const ruleset = builder.finish(reader);
 * ```
 */
export class RulesetBuilder {
  readonly #tables = new Map<TableName, Table>();
  readonly #warnings: ParseWarning[] = [];
  readonly #lazy: boolean;
  readonly #store: RuleStore;
  /** The rule lists of the chains of the table being read, by declaration position (a rule's `chainId`). */
  #table: TableRules | undefined;
  #chains = new ParsedChains();
  readonly handler: DumpHandler;

  constructor(options: ParseDumpOptions = {}) {
    this.#lazy = options.lazy ?? false;
    this.#store = new RuleStore(options.expectedRules, { copy: options.reusedChunks === true });
    this.handler = {
      table: (name, line) => {
        this.#chains = new ParsedChains();
        this.#tables.set(name, { name, line, commitLine: 0, chains: this.#chains });
        this.#table = new TableRules(name, this.#store);
      },
      chainView: (view: ChainView) => {
        const t = this.#table!;
        t.index = view.chains;
        this.#chains.add(DumpChain.of(view, t, view.chainId), view.chains);
      },
      ruleView: (view) => {
        this.#store.add(this.#table!.links, view);
      },
      repeatRules: (block) => {
        this.#store.addBlock(this.#table!.links, block);
      },
      chunkDone: () => this.#store.flush(),
      commit: (name, line) => {
        this.#store.flush();
        const table = this.#tables.get(name)!;
        table.commitLine = line;
        if (!this.#lazy) this.#checkRules(table);
      },
      warning: (w) => this.#warnings.push(w),
    };
  }

  /** Parses every rule of a committed table (a malformed one throws): targets are checked against the table's chains. */
  #checkRules(table: Table): void {
    const unknownSeen = new Set<string>();
    // In reading order, so each warning names the first line with the unknown module or target.
    const rules: Rule[] = [];
    for (const chain of table.chains.values()) for (const rule of chain.rules) rules.push(rule);
    rules.sort((a, b) => a.line - b.line);
    for (const rule of rules) {
      // Parsed to check, not kept: a rule's spec is made again on use, so a checked dump costs no
      // more memory than a lazy one (specs are about ten times the size of the rule's text).
      const spec = parseRule(rule.text, rule.line).spec;
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
        !COMPONENT_CHAIN.test(target.name) &&
        !unknownSeen.has(`t:${target.name}`)
      ) {
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

  /** The ruleset, once `reader` (fed with this builder's handler) has ended. */
  finish(reader: DumpReader): Ruleset {
    this.#store.seal();
    this.#warnings.sort((a, b) => a.line - b.line);
    return {
      header: reader.header,
      tables: this.#tables,
      warnings: this.#warnings,
      ruleCount: reader.ruleCount,
      lineCount: reader.lineCount,
    };
  }
}
