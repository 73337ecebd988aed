/**
 * The chains of a parsed dump: a chain keeps its declaration and where its rules are in the
 * {@linkcode RuleStore}, and makes its {@linkcode Rule} objects on first use of `rules`.
 */
import {
  type Chain,
  type Counters,
  type Rule,
  type RuleAccess,
  type RuleRuns,
  rulesAccess,
  type TableName,
  textsOfRuns,
} from "../model/ruleset.ts";
import type { ChainIndex } from "./chain-index.ts";
import { ChainLinks } from "./chain-links.ts";
import type { RuleStore } from "./rule-store.ts";

/** What the chains of one table of a parsed dump share. */
export class TableRules {
  readonly links = new ChainLinks();
  /** The reader's chain names of the table (set at its first declaration). */
  index: ChainIndex | undefined;
  /** The rule access of each chain asked for it, by position (planning and rendering share one). */
  readonly access = new Map<number, RuleAccess>();

  constructor(
    readonly table: TableName,
    readonly store: RuleStore,
  ) {}
}

/** What a declaration gives a chain (a {@linkcode ChainView} or a `ChainDeclaration`). */
interface Declared {
  readonly line: number;
  readonly builtin: boolean;
  readonly policy?: "ACCEPT" | "DROP" | undefined;
  readonly counters: Counters;
}

const ZERO: Counters = { packets: "0", bytes: "0" };

/**
 * A declared chain of a parsed dump. Its rules are a linked list in the {@linkcode RuleStore} until
 * `rules` is first read; then they are made, in order, once. A node has hundreds of thousands of
 * user chains without counters, so those keep only their name, line and position (the rest is
 * derived); other chains are {@linkcode DeclaredDumpChain}s.
 */
export class DumpChain implements Chain {
  readonly line: number;
  readonly #t: TableRules;
  readonly #id: number;
  #rules: Rule[] | undefined;

  /** The chain for a declaration, in the shape that costs least. */
  static of(decl: Declared, t: TableRules, id: number): DumpChain {
    const c = decl.counters;
    return decl.builtin || decl.policy !== undefined || c.packets !== "0" || c.bytes !== "0"
      ? new DeclaredDumpChain(decl, t, id)
      : new DumpChain(decl, t, id);
  }

  protected constructor(decl: Declared, t: TableRules, id: number) {
    this.line = decl.line;
    this.#t = t;
    this.#id = id;
    t.links.reserve(id);
  }

  /** The declared name, made from the dump's bytes on first use (and kept by the table's index). */
  get name(): string {
    return this.#t.index!.name(this.#id);
  }

  get table(): TableName {
    return this.#t.table;
  }

  get builtin(): boolean {
    return false;
  }

  get counters(): Counters {
    return ZERO;
  }

  /**
   * Undefined for a user chain. Typed as always present because a getter cannot be declared optional
   * under `exactOptionalPropertyTypes`; reading `Chain.policy` sees `undefined` in its type either way.
   */
  get policy(): "ACCEPT" | "DROP" {
    return undefined as unknown as "ACCEPT" | "DROP";
  }

  /** Number of rules, without making them. */
  get ruleCount(): number {
    return this.#rules?.length ?? this.#t.links.count[this.#id]!;
  }

  /**
   * The texts of the rules in order; identical neighbours (a leak's copies follow each other in their
   * chain) share one string, decoded once.
   */
  ruleTexts(): string[] {
    return textsOfRuns(this.ruleRuns(), this.#t.links.count[this.#id]!);
  }

  /** The rules as runs of identical texts (see {@linkcode RuleStore.runs}). */
  ruleRuns(): RuleRuns {
    const links = this.#t.links;
    const count = links.count[this.#id]!;
    return this.#t.store.runs(count === 0 ? 0 : links.first[this.#id]!, count);
  }

  /** The rules' lines, and each rule made when asked for: no object per rule (see {@linkcode RuleAccess}). */
  ruleAccess(): RuleAccess {
    const made = this.#rules;
    if (made !== undefined) return rulesAccess(made);
    let access = this.#t.access.get(this.#id);
    if (access === undefined) {
      const links = this.#t.links;
      const count = links.count[this.#id]!;
      access = this.#t.store.access(this, count === 0 ? 0 : links.first[this.#id]!, count);
      this.#t.access.set(this.#id, access);
    }
    return access;
  }

  get rules(): Rule[] {
    if (this.#rules === undefined) {
      const links = this.#t.links;
      const count = links.count[this.#id]!;
      this.#rules = count === 0 ? [] : this.#t.store.rules(this, links.first[this.#id]!, count);
    }
    return this.#rules;
  }

  toJSON(): object {
    const { name, table, counters, builtin, line, rules } = this;
    const policy: string | undefined = this.policy;
    return policy === undefined
      ? { name, table, counters, builtin, line, rules }
      : { name, table, policy, counters, builtin, line, rules };
  }
}

/** A built-in chain, or a user chain with counters: the declaration's values are kept as given. */
class DeclaredDumpChain extends DumpChain {
  readonly #builtin: boolean;
  readonly #counters: Counters;
  readonly #policy: "ACCEPT" | "DROP" | undefined;

  constructor(decl: Declared, t: TableRules, id: number) {
    super(decl, t, id);
    this.#builtin = decl.builtin;
    this.#counters = decl.counters;
    this.#policy = decl.policy;
  }

  override get builtin(): boolean {
    return this.#builtin;
  }

  override get counters(): Counters {
    return this.#counters;
  }

  override get policy(): "ACCEPT" | "DROP" {
    return this.#policy as "ACCEPT" | "DROP";
  }
}
