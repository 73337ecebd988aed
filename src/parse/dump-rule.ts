/**
 * A rule of a parsed dump: a few numbers and a pointer into the dump's bytes, which are its evidence;
 * its text is decoded on use and its options parsed on first use.
 */
import type { Chain, Counters, Rule, RuleSpec, TableName } from "../model/ruleset.ts";
import { parseRule } from "./parse-rule.ts";
import { decodeBytes } from "./rule-view.ts";

/** The `[packets:bytes] ` prefix of `iptables-save -c` lines. */
const COUNTER_PREFIX = /^\[(\d+):(\d+)\] /;

/** End of the line that starts at `start` (before its CR, LF or the end of the bytes). */
export function lineEnd(bytes: Uint8Array, start: number): number {
  let end = bytes.indexOf(10, start);
  if (end < 0) end = bytes.length;
  return end > start && bytes[end - 1] === 13 ? end - 1 : end;
}

/**
 * A rule whose options are parsed on first use. It keeps only what cannot be derived: its chain
 * (which knows the table and chain name), position, line, and where its line is in the dump's
 * bytes; `raw`, `text` and `counters` are decoded on use (the `[p:b] ` prefix is the only difference
 * between raw and text). Rules where they cannot be (`iptables -S -v` puts `-c P B` inside the rule)
 * are {@linkcode SplitDumpRule}s.
 */
export class DumpRule implements Rule {
  readonly #chain: Chain;
  readonly index: number;
  readonly line: number;
  readonly #bytes: Uint8Array;
  readonly #start: number;
  #spec: RuleSpec | undefined;

  constructor(chain: Chain, index: number, line: number, bytes: Uint8Array, start: number) {
    this.#chain = chain;
    this.index = index;
    this.line = line;
    this.#bytes = bytes;
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
    return decodeBytes(this.#bytes, this.#start, lineEnd(this.#bytes, this.#start));
  }

  get text(): string {
    const b = this.#bytes;
    const start = this.#start;
    if (b[start] !== 91 /* [ */) return this.raw;
    let t = start;
    while (b[t] !== 93 /* ] */) t++;
    return decodeBytes(b, t + 2, lineEnd(b, start));
  }

  /**
   * Typed as always present because a getter cannot be declared optional under
   * `exactOptionalPropertyTypes`; reading `Rule.counters` sees `Counters | undefined` either way.
   */
  get counters(): Counters {
    if (this.#bytes[this.#start] !== 91) return undefined as unknown as Counters;
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
export class SplitDumpRule extends DumpRule {
  readonly #raw: string;
  readonly #text: string;
  readonly #counters: Counters | undefined;

  constructor(chain: Chain, index: number, line: number, parts: SplitParts) {
    super(chain, index, line, EMPTY, 0);
    this.#raw = parts.raw;
    this.#text = parts.text;
    this.#counters = parts.counters;
  }

  override get raw(): string {
    return this.#raw;
  }

  override get text(): string {
    return this.#text;
  }

  override get counters(): Counters {
    return this.#counters as Counters;
  }
}

const EMPTY = new Uint8Array(0);

export interface SplitParts {
  readonly raw: string;
  readonly text: string;
  readonly counters: Counters | undefined;
}
