/**
 * A streaming index of the parts of a node's dump that reconciliation needs: kube-proxy's nat
 * chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-SVC/SVL/EXT/FW/XLB/SEP-*), the filter REJECT/DROP
 * chains, every chain declaration and every jump target. Only a few fields per rule are kept, so
 * it rides along the same pass as {@linkcode NodeScanner} on a 1M-rule dump.
 */
import type { TableName } from "../model/ruleset.ts";
import type { DumpHandler, RuleLine } from "../parse/dump-reader.ts";
import { KNOWN_TARGETS } from "../parse/known-extensions.ts";
import { tokenizeRule } from "../parse/tokenize-rule.ts";

/** The fields of one rule that reconciliation reads. Addresses are without a `/32` suffix. */
export interface IndexedRule {
  readonly table: TableName;
  readonly chain: string;
  readonly line: number;
  readonly text: string;
  readonly destination?: string;
  readonly protocol?: string;
  readonly dport?: number;
  readonly target?: string;
  /** `--to-destination` of a DNAT. */
  readonly toDestination?: string;
}

/** A rule jumping to a chain that is not declared in its table. */
export interface UndefinedJump {
  readonly table: TableName;
  readonly target: string;
  readonly line: number;
  readonly text: string;
}

const NAT_CHAIN = /^KUBE-(SERVICES|NODEPORTS|SVC-|SVL-|EXT-|FW-|XLB-|SEP-)/;
const FILTER_CHAINS = new Set(["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"]);

function words(text: string, line: number): string[] {
  if (!text.includes('"')) return text.split(/\s+/);
  return tokenizeRule(text, line).map((t) => (t.quoted ? `"${t.value}` : t.value));
}

function stripHost(v: string): string {
  return v.endsWith("/32") ? v.slice(0, -3) : v;
}

/** Extracts the reconciliation fields from a rule's words (negated addresses are not kept). */
export function indexRule(rule: RuleLine): IndexedRule {
  const w = words(rule.text, rule.line);
  const out: { -readonly [K in keyof IndexedRule]: IndexedRule[K] } = {
    table: rule.table,
    chain: rule.chain,
    line: rule.line,
    text: rule.text,
  };
  let negated = false;
  for (let i = 2; i < w.length; i++) {
    const t = w[i]!;
    if (t === "!") {
      negated = true;
      continue;
    }
    const next = w[i + 1];
    switch (t) {
      case "-d":
      case "--destination":
        if (!negated && next !== undefined) out.destination = stripHost(next);
        i++;
        break;
      case "-p":
      case "--protocol":
        if (!negated && next !== undefined) out.protocol = next.toLowerCase();
        i++;
        break;
      case "--dport":
      case "--destination-port":
        if (!negated && next !== undefined && /^\d+$/.test(next)) out.dport = Number(next);
        i++;
        break;
      case "-j":
      case "-g":
      case "--jump":
      case "--goto":
        if (next !== undefined) out.target = next;
        i++;
        break;
      case "--to-destination":
        if (next !== undefined) out.toDestination = next;
        i++;
        break;
      default:
        break;
    }
    negated = false;
  }
  return out;
}

function targetOf(text: string): string | undefined {
  // The target is the word after the last " -j " / " -g " that is outside quotes; rules with
  // quotes take the slow path.
  if (text.includes('"')) {
    const w = tokenizeRule(text, 0);
    for (let i = w.length - 2; i >= 0; i--) {
      const t = w[i]!;
      if (!t.quoted && (t.value === "-j" || t.value === "-g")) return w[i + 1]!.value;
    }
    return undefined;
  }
  const j = Math.max(text.lastIndexOf(" -j "), text.lastIndexOf(" -g "));
  if (j < 0) return undefined;
  const end = text.indexOf(" ", j + 4);
  return text.slice(j + 4, end < 0 ? undefined : end);
}

/** The index of one node's dump. */
export interface KubeProxyIndex {
  /** Declared chains per table, with their declaration line. */
  readonly chains: ReadonlyMap<TableName, ReadonlyMap<string, number>>;
  /** Indexed nat rules by chain, in order. */
  readonly nat: ReadonlyMap<string, readonly IndexedRule[]>;
  /** filter KUBE-SERVICES and KUBE-EXTERNAL-SERVICES rules. */
  readonly filter: readonly IndexedRule[];
  readonly undefinedJumps: readonly UndefinedJump[];
  /** Chains any rule jumps to, per table. */
  readonly referenced: ReadonlyMap<TableName, ReadonlySet<string>>;
}

/**
 * Builds a {@linkcode KubeProxyIndex} from a streaming {@linkcode DumpReader} pass.
 *
 * @example
 * ```ts
 * const idx = new KubeProxyIndexer();
 * const reader = new DumpReader(idx.handler); reader.push(text); reader.end();
 * idx.finish().nat.get("KUBE-SERVICES");
 * ```
 */
export class KubeProxyIndexer {
  readonly #chains = new Map<TableName, Map<string, number>>();
  readonly #nat = new Map<string, IndexedRule[]>();
  readonly #filter: IndexedRule[] = [];
  readonly #jumps = new Map<TableName, Map<string, { line: number; text: string }>>();

  readonly handler: DumpHandler = {
    table: (name) => {
      if (!this.#chains.has(name)) this.#chains.set(name, new Map());
      if (!this.#jumps.has(name)) this.#jumps.set(name, new Map());
    },
    chain: (decl) => {
      this.#chains.get(decl.table)!.set(decl.name, decl.line);
    },
    rule: (rule) => this.rule(rule),
  };

  /** Takes one rule (also usable as a handler of a combined pass). */
  rule(rule: RuleLine): void {
    let target: string | undefined;
    if (rule.table === "nat" && NAT_CHAIN.test(rule.chain)) {
      const r = indexRule(rule);
      let list = this.#nat.get(rule.chain);
      if (list === undefined) this.#nat.set(rule.chain, (list = []));
      list.push(r);
      target = r.target;
    } else if (rule.table === "filter" && FILTER_CHAINS.has(rule.chain)) {
      const r = indexRule(rule);
      this.#filter.push(r);
      target = r.target;
    } else {
      target = targetOf(rule.text);
    }
    if (target === undefined || KNOWN_TARGETS.has(target)) return;
    const jumps = this.#jumps.get(rule.table)!;
    if (!jumps.has(target)) jumps.set(target, { line: rule.line, text: rule.text });
  }

  finish(): KubeProxyIndex {
    const undefinedJumps: UndefinedJump[] = [];
    const referenced = new Map<TableName, Set<string>>();
    for (const [table, jumps] of this.#jumps) {
      const declared = this.#chains.get(table) ?? new Map();
      referenced.set(table, new Set(jumps.keys()));
      for (const [target, at] of jumps) {
        if (!declared.has(target)) undefinedJumps.push({ table, target, ...at });
      }
    }
    undefinedJumps.sort((a, b) => a.line - b.line);
    return { chains: this.#chains, nat: this.#nat, filter: this.#filter, undefinedJumps, referenced };
  }
}
