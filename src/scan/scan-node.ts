import type { DumpHeader, ParseWarning, TableName } from "../model/ruleset.ts";
import { REPEAT_WINDOW, type RuleBlock } from "../parse/dump-handler.ts";
import type { DumpHandler } from "../parse/dump-reader.ts";
import { grownInt32 } from "../parse/grow-array.ts";
import { decodeBytes, type RuleView } from "../parse/rule-view.ts";
import { type Group, sameBytes, textBytes } from "./duplicate-group.ts";
import { FingerprintTable } from "./fingerprint-table.ts";
import type { DuplicateGroup, NodeScan, TableCounts } from "./node-scan.ts";
import { type RuleOwner, ruleOwner } from "./rule-owner.ts";

/** How many line numbers a duplicate group keeps as evidence. */
const SAMPLE_LINES = 5;

export type { DuplicateGroup, NodeScan, TableCounts } from "./node-scan.ts";

/** Rules read before the fingerprint table is sized for the whole dump. */
const ESTIMATE_AFTER = 16_384;

const SALT: Readonly<Record<TableName, number>> = { raw: 1, mangle: 2, nat: 3, filter: 4, security: 5 };

/** Options of {@linkcode NodeScanner}. */
export interface NodeScannerOptions {
  /**
   * About how many rules the dump holds, when known beforehand: the fingerprint table is then made
   * large enough at once instead of growing (default: {@linkcode rulesInBytes} of `expectedBytes`).
   */
  readonly expectedRules?: number;
  /**
   * The dump's size in bytes, when known (a file): the rules still to come are then told by the bytes
   * left and the length of the rules read so far, closer than by {@linkcode rulesInBytes}.
   */
  readonly expectedBytes?: number;
}

/**
 * A guess of the number of rules in `bytes` of iptables-save text, on the high side: kube-proxy rules
 * are about 140 bytes, and a guess too low costs growing every per-rule array once the dump is read.
 */
export function rulesInBytes(bytes: number): number {
  return Math.ceil(bytes / 125);
}

/**
 * Accumulates the scan of one dump in the same streaming pass as a {@linkcode DumpReader}: counts,
 * and exact duplicates (same table, chain and text), whatever the order of the rules: chains
 * interleaved as kube-proxy writes them or declared in any order, `[packets:bytes]` counters, CRLF.
 *
 * Each rule's text is fingerprinted on its bytes into a {@linkcode FingerprintTable} (64 bits and the
 * first line per distinct rule); the text is made only at a rule's second copy, when it becomes a
 * duplicate group, and every later copy is compared with it byte by byte. Memory is the fingerprint
 * table (12 bytes per slot, at most half full) plus the groups; no rule text is kept. The chance that
 * two different rules merge, and what is confirmed, are in docs/scan.md ("Fingerprint collisions").
 *
 * @example
 * ```ts
 * const scan = new NodeScanner();
 * const reader = new DumpReader(scan.handler);
 * reader.push(bytes); reader.end();
 * const result = scan.finish({ node: "w3", file: "w3.txt", header: reader.header });
 * ```
 */
export class NodeScanner {
  readonly #tables = new Map<TableName, TableCounts>();
  readonly #warnings: ParseWarning[] = [];
  readonly #seen: FingerprintTable;
  readonly #groups: Group[] = [];
  /** Texts whose fingerprint matched another group's text (about never): counted exactly by text. */
  #collided: Map<string, Group> | undefined;
  #rules = 0;
  #chains = 0;
  /** About how many rules the dump holds (from its size), if known. */
  readonly #expected: number | undefined;
  /** The dump's size in bytes (a file), if known; and the bytes of the rule lines read so far. */
  readonly #expectedBytes: number | undefined;
  #ruleBytes = 0;
  /** The fingerprint salt of the table being read. */
  #salt = 0;
  #current: TableCounts = { rules: 0, chains: 0 };
  /** Per chain of the current table, by position: the slot of its last rule (-1: not known). */
  #slotOf: Int32Array = new Int32Array(1024).fill(-1);
  /** The fingerprint table's size when `#slotOf` was filled (growing it moves every slot). */
  #slotsOf = 0;
  /** The group of each of the last rules (by rule number, mod REPEAT_WINDOW), for repeated blocks. */
  readonly #recent: (Group | undefined)[] = new Array(REPEAT_WINDOW).fill(undefined);
  /** Room for a repeated block's groups (see `#repeat`). */
  readonly #blockGroups: (Group | undefined)[] = new Array(REPEAT_WINDOW).fill(undefined);

  readonly handler: DumpHandler = {
    table: (name) => {
      this.#salt = SALT[name];
      this.#slotOf.fill(-1);
      this.#current = { rules: 0, chains: 0 };
      this.#tables.set(name, this.#current);
    },
    ruleView: (view) => {
      this.#recent[this.#rules & (REPEAT_WINDOW - 1)] = this.#rule(view);
    },
    repeatRules: (block) => this.#repeat(block),
    commit: (_table, _line, chains) => {
      this.#chains += chains;
      this.#current.chains = chains;
    },
    warning: (w) => {
      this.#warnings.push(w);
    },
  };

  constructor(options: NodeScannerOptions = {}) {
    const bytes = options.expectedBytes;
    this.#expected = options.expectedRules ?? (bytes === undefined ? undefined : rulesInBytes(bytes));
    this.#expectedBytes = bytes;
    // Sized for the dump once it fills and the rules read tell how many can still come (see
    // #estimate): a leak's million rules have a few thousand distinct ones, and a table sized for a
    // million distinct rules is 24 MB of fresh pages touched all over.
    this.#seen = new FingerprintTable(Math.min(this.#expected ?? 8192, ESTIMATE_AFTER));
  }

  /**
   * After the first {@linkcode ESTIMATE_AFTER} rules: the fingerprint table, once full, makes room at
   * once for the distinct rules it holds plus every rule the dump may still hold. The share of
   * distinct rules among the first ones says little about the rest: a leak's copies come in long runs
   * (kube-proxy's write order has 300,000 of them in the filter table before 665,000 distinct nat
   * rules), so the table grows when it is full, when the rules read tell how many can still come. A
   * dump of copies fills it late, with few rules left, and keeps a small table.
   */
  #estimate(): void {
    const bytes = this.#expectedBytes;
    const expected = this.#expected;
    if (bytes !== undefined) {
      // Every rule still to come taken as distinct: the bytes left at the length of the rules read.
      this.#seen.planGrowth((size) => {
        const left = Math.max(0, bytes - this.#ruleBytes);
        return size + Math.ceil((left * this.#rules) / Math.max(1, this.#ruleBytes));
      });
    } else if (expected !== undefined) {
      this.#seen.planGrowth((size) => size + Math.max(0, expected - this.#rules));
    }
  }

  /** Bytes held by the fingerprint table (for benchmarks). */
  get tableBytes(): number {
    return this.#seen.byteLength;
  }

  /** Counts a rule; returns its group once it has two copies. */
  #rule(v: RuleView): Group | undefined {
    if (++this.#rules === ESTIMATE_AFTER) this.#estimate();
    this.#ruleBytes += v.end - v.rawStart + 1;
    this.#current.rules++;
    const seen = this.#seen;
    const c = v.chainId;
    if (c >= this.#slotOf.length) this.#growSlots(c);
    const slotOf = this.#slotOf;
    // A copy of its chain's previous rule (the reader compared their bytes: a leak writes its copies
    // back to back in their chain) has that rule's slot and confirmed text: neither hashed nor
    // compared with its group again.
    let slot = v.repeat ? slotOf[c]! : -1;
    const again = slot >= 0;
    if (!again) {
      slot = seen.find(v.words, v.start, v.end, this.#salt);
      if (seen.capacity !== this.#slotsOf) {
        slotOf.fill(-1);
        this.#slotsOf = seen.capacity;
      }
    }
    slotOf[c] = slot;
    // The slot's value: the line of the only copy so far, or -(group number) once there are two.
    const value = seen.value(slot);
    if (value === 0) {
      seen.setValue(slot, v.line);
      return undefined;
    }
    if (value > 0) {
      const group = {
        table: v.table,
        chain: v.chain,
        rule: v.text,
        ...textBytes(v),
        count: 2,
        lines: [value, v.line],
      };
      seen.setValue(slot, -this.#groups.push(group));
      return group;
    }
    const group = this.#groups[-value - 1]!;
    if (again || sameBytes(group, v.words, v.start, v.end)) {
      this.#count(group, v.line);
      return group;
    }
    slotOf[c] = -1;
    return this.#collision(v);
  }

  /**
   * The copies of a repeated block (see {@linkcode DumpHandler.repeatRules}): each rule's group counts
   * them, and takes the first lines while it has fewer than {@linkcode SAMPLE_LINES}.
   */
  #repeat(b: RuleBlock): void {
    const k = b.rules;
    const before = this.#rules;
    // The copies' bytes, at the length of the rules before them (only an estimate is made of them).
    this.#ruleBytes += (k * b.times * this.#ruleBytes) / Math.max(1, before);
    this.#rules += k * b.times;
    this.#current.rules += k * b.times;
    const mask = REPEAT_WINDOW - 1;
    const recent = this.#recent;
    // The block's groups, read before the window is written (k * times may wrap onto them), into an
    // array of the scanner's own: a leak's block comes back after every line that breaks it.
    const groups = this.#blockGroups;
    for (let j = 0; j < k; j++) groups[j] = recent[(before - k + j) & mask];
    let sampled: Group[] | undefined;
    for (let j = 0; j < k; j++) {
      const group = groups[j];
      // The reader hands on a block only after reading it twice: each of its rules has a group.
      if (group === undefined)
        throw new RangeError(`Cannot count copies of line ${b.firstLine + j}: no group`);
      group.count += b.times;
      if (group.lines.length < SAMPLE_LINES) {
        for (let r = 0; r < Math.min(b.times, SAMPLE_LINES); r++) group.lines.push(b.firstLine + r * k + j);
        (sampled ??= []).push(group);
      }
      // Its last rule is now a copy the slot is not remembered for.
      this.#slotOf[b.chains[j]!] = -1;
    }
    for (let j = 0; j < k; j++) recent[(this.#rules - k + j) & mask] = groups[j];
    // A group with several rules of the block took lines of each: the first ones, in order.
    for (const g of sampled ?? [])
      if (g.lines.length > SAMPLE_LINES) g.lines.sort((x, y) => x - y).length = SAMPLE_LINES;
    if (before < ESTIMATE_AFTER && this.#rules >= ESTIMATE_AFTER) this.#estimate();
  }

  #growSlots(c: number): void {
    this.#slotOf = grownInt32(this.#slotOf, Math.max(c + 1, this.#slotOf.length * 2), -1);
  }

  #count(group: Group, line: number): void {
    group.count++;
    if (group.lines.length < SAMPLE_LINES) group.lines.push(line);
  }

  /** A copy whose fingerprint is another text's: counted by its exact text instead. */
  #collision(v: RuleView): Group {
    this.#collided ??= new Map();
    const text = decodeBytes(v.bytes, v.start, v.end);
    const key = `${v.table}\0${text}`;
    let group = this.#collided.get(key);
    if (group !== undefined) this.#count(group, v.line);
    else {
      group = { table: v.table, chain: v.chain, rule: text, ...textBytes(v), count: 1, lines: [v.line] };
      this.#collided.set(key, group);
    }
    return group;
  }

  /** Builds the node's scan once the reader has ended. */
  finish(meta: { node: string; file: string; header: DumpHeader }): NodeScan {
    const all = [...this.#groups, ...[...(this.#collided?.values() ?? [])].filter((g) => g.count > 1)];
    const groups: DuplicateGroup[] = [];
    const byOwner: Partial<Record<RuleOwner, number>> = {};
    let extraRules = 0;
    for (const g of all) {
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
