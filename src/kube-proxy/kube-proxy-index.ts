/**
 * A streaming index of the parts of a node's dump that reconciliation needs: kube-proxy's nat
 * chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-SVC/SVL/EXT/FW/XLB/SEP-*), the filter REJECT/DROP
 * chains, every chain declaration and every jump target. Only a few fields per rule are kept, so
 * it rides along the same pass as {@linkcode NodeScanner} on a 1M-rule dump.
 */
import type { TableName } from "../model/ruleset.ts";
import type { DumpHandler, RuleLine, RuleView } from "../parse/dump-reader.ts";
import { KNOWN_TARGETS } from "../parse/known-extensions.ts";
import type { DeclaredChains } from "./declared-chains.ts";

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
  /**
   * The rule matches on where the packet comes from (`-s`, `-i` or `--src-type LOCAL`, not
   * negated): the pod and node short-circuits of KUBE-XLB-/KUBE-EXT- chains, which external
   * clients do not take.
   */
  readonly sourceMatch?: boolean;
}

/** A rule jumping to a chain that is not declared in its table. */
export interface UndefinedJump {
  readonly table: TableName;
  readonly target: string;
  readonly line: number;
  readonly text: string;
}

/** The nat chains whose rules are indexed (all of kube-proxy's Service and endpoint chains). */
export const NAT_CHAIN = /^KUBE-(SERVICES|NODEPORTS|SVC-|SVL-|EXT-|FW-|XLB-|SEP-)/;
/** {@linkcode NAT_CHAIN} as prefixes of a rule's text `-A CHAIN ...`, to test a rule on its bytes. */
const NAT_RULE = ["SERVICES", "NODEPORTS", "SVC-", "SVL-", "EXT-", "FW-", "XLB-", "SEP-"].map(
  (p) => `-A KUBE-${p}`,
);
/** Undefined jump targets kept: a broken dump can have thousands; a few prove it. */
export const MAX_UNDEFINED = 100;
/** The filter chains whose rules are indexed (kube-proxy's REJECT/DROP of Services without endpoints). */
export const FILTER_CHAINS: ReadonlySet<string> = new Set(["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"]);
/** nat rules that only mark for masquerading or dropping: nothing reconciliation reads, never indexed. */
export function marksOnly(text: string): boolean {
  return text.endsWith(" -j KUBE-MARK-MASQ") || text.endsWith(" -j KUBE-MARK-DROP");
}
/** Where the ipset match of kube-proxy's IPVS mode shows (see {@linkcode KubeProxyIndex.ipvsClusterIpMatch}). */
export const IPVS_CLUSTER_IP_MATCH = "--match-set KUBE-CLUSTER-IP ";

/** Start/end offsets of the double-quoted parts of a rule (comments), so options are never read inside them. */
function quotedRanges(text: string): number[] {
  const out: number[] = [];
  let i = text.indexOf('"');
  while (i >= 0) {
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
    out.push(i, j);
    i = j + 1 < text.length ? text.indexOf('"', j + 1) : -1;
  }
  return out;
}

function insideQuotes(pos: number, ranges: readonly number[]): boolean {
  for (let k = 0; k < ranges.length; k += 2) if (pos > ranges[k]! && pos < ranges[k + 1]!) return true;
  return false;
}

/** The word after ` OPT ` outside quotes, unless the option is negated; undefined when absent. */
function option(text: string, opt: string, ranges: readonly number[]): string | undefined {
  let at = text.indexOf(opt);
  while (at >= 0 && ranges.length > 0 && insideQuotes(at, ranges)) at = text.indexOf(opt, at + 1);
  if (at < 0) return undefined;
  if (at >= 2 && text.charCodeAt(at - 1) === 33 /* ! */ && text.charCodeAt(at - 2) === 32) return undefined;
  const from = at + opt.length;
  const end = text.indexOf(" ", from);
  return text.slice(from, end < 0 ? undefined : end);
}

/**
 * Extracts the reconciliation fields from a rule by direct search (no full tokenizing: this runs
 * for every kube-proxy rule of every node). Negated addresses and ports are not kept.
 */
export function indexRule(rule: RuleLine): IndexedRule {
  const text = rule.text;
  const ranges = text.includes('"') ? quotedRanges(text) : [];
  const out: { -readonly [K in keyof IndexedRule]: IndexedRule[K] } = {
    table: rule.table,
    chain: rule.chain,
    line: rule.line,
    text,
  };
  const d = option(text, " -d ", ranges);
  if (d !== undefined) out.destination = stripHost(d);
  const p = option(text, " -p ", ranges);
  if (p !== undefined) out.protocol = p.toLowerCase();
  const dport = option(text, " --dport ", ranges);
  if (dport !== undefined && /^\d+$/.test(dport)) out.dport = Number(dport);
  const target = targetOf(text, ranges);
  if (target !== undefined) out.target = target;
  const to = option(text, " --to-destination ", ranges);
  if (to !== undefined) out.toDestination = to;
  // Only the external-policy chains need it; other chains skip the three searches.
  const external = rule.chain.startsWith("KUBE-XLB-") || rule.chain.startsWith("KUBE-EXT-");
  if (
    external &&
    (option(text, " -s ", ranges) !== undefined ||
      option(text, " -i ", ranges) !== undefined ||
      option(text, " --src-type ", ranges) !== undefined)
  )
    out.sourceMatch = true;
  return out;
}

function stripHost(v: string): string {
  return v.endsWith("/32") ? v.slice(0, -3) : v;
}

/** The word after the last ` -j ` / ` -g ` outside quotes (iptables-save prints the target last). */
function targetOf(
  text: string,
  ranges: readonly number[] = text.includes('"') ? quotedRanges(text) : [],
): string | undefined {
  let j = Math.max(text.lastIndexOf(" -j "), text.lastIndexOf(" -g "));
  while (j >= 0 && ranges.length > 0 && insideQuotes(j, ranges)) {
    j = Math.max(text.lastIndexOf(" -j ", j - 1), text.lastIndexOf(" -g ", j - 1));
  }
  if (j < 0) return undefined;
  const end = text.indexOf(" ", j + 4);
  return text.slice(j + 4, end < 0 ? undefined : end);
}

/** The index of one node's dump. */
export interface KubeProxyIndex {
  /** Declared chains per table, with their declaration line. */
  readonly chains: ReadonlyMap<TableName, DeclaredChains>;
  /** Indexed nat rules by chain, in order. */
  readonly nat: ReadonlyMap<string, readonly IndexedRule[]>;
  /** filter KUBE-SERVICES and KUBE-EXTERNAL-SERVICES rules. */
  readonly filter: readonly IndexedRule[];
  /**
   * The indexed rules of nat `chain` whose text names `ip` after ` -d ` (every rule with that
   * destination is among them), found without indexing the chain's other rules; only an index that
   * indexes on demand has it (ruleset-index.ts).
   */
  natRulesTo?(chain: string, ip: string): readonly IndexedRule[];
  /** Jumps to undeclared chains, first rule per target (at most {@linkcode MAX_UNDEFINED}). */
  readonly undefinedJumps: readonly UndefinedJump[];
  /**
   * The first nat KUBE-SERVICES rule matching the ipset `KUBE-CLUSTER-IP`: the mark of kube-proxy's
   * IPVS mode, which has no per-Service chains (pkg/proxy/ipvs/proxier.go).
   */
  readonly ipvsClusterIpMatch?: { readonly line: number; readonly text: string } | undefined;
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
  readonly #undefined: UndefinedJump[] = [];
  readonly #undefinedSeen = new Map<TableName, Set<string>>();
  #lastChain = "";
  #lastList: IndexedRule[] | undefined;
  #ipvs: { line: number; text: string } | undefined;

  readonly handler: DumpHandler = {
    table: (name) => {
      if (!this.#chains.has(name)) this.#chains.set(name, new Map());
    },
    chain: (decl) => {
      this.#chains.get(decl.table)!.set(decl.name, decl.line);
    },
    ruleView: (view) => this.ruleView(view),
  };

  /**
   * Takes one rule of a streaming pass on its bytes: the rule's strings are made only for the rules
   * the index keeps; for the others only the jump target is read (a declared chain's name costs no
   * allocation), for the undefined-jump check.
   */
  ruleView(view: RuleView): void {
    if (view.table === "nat" && view.startsWith("-A KUBE-") && NAT_RULE.some((p) => view.startsWith(p))) {
      // As rule() does, before the rule's strings are made; until IPVS mode's mark is found, a
      // KUBE-SERVICES rule matching its ipset goes to rule() whole (IPVS mode's first is a MASQ mark).
      const ipvsCandidate =
        this.#ipvs === undefined &&
        view.startsWith("-A KUBE-SERVICES ") &&
        view.includes(IPVS_CLUSTER_IP_MATCH);
      if (!ipvsCandidate && (view.endsWith(" -j KUBE-MARK-MASQ") || view.endsWith(" -j KUBE-MARK-DROP")))
        return;
      this.#rule(view.toRuleLine(), view.targetChain() < 0);
      return;
    }
    if (view.table === "filter" && FILTER_CHAINS.has(view.chain)) {
      this.#rule(view.toRuleLine(), view.targetChain() < 0);
      return;
    }
    // A jump to a chain declared so far needs no check (and no string).
    if (view.targetChain() < 0) this.#jump(view.table, view.target(), view);
  }

  /** Takes one rule (also usable as a handler of a combined pass). */
  rule(rule: RuleLine): void {
    this.#rule(rule, true);
  }

  /** `mayBeUndefined` false: the target is a chain declared so far (no lookup of its name needed). */
  #rule(rule: RuleLine, mayBeUndefined: boolean): void {
    const text = rule.text;
    let target: string | undefined;
    if (rule.table === "nat" && NAT_CHAIN.test(rule.chain)) {
      if (this.#ipvs === undefined && rule.chain === "KUBE-SERVICES" && text.includes(IPVS_CLUSTER_IP_MATCH))
        this.#ipvs = { line: rule.line, text };
      // Masquerade-mark rules carry nothing reconciliation reads: skip them (fewer live objects,
      // less GC on a 1M-rule dump).
      if (marksOnly(text)) return;
      const r = indexRule(rule);
      if (this.#lastChain !== rule.chain || this.#lastList === undefined) {
        this.#lastChain = rule.chain;
        this.#lastList = this.#nat.get(rule.chain);
        if (this.#lastList === undefined) this.#nat.set(rule.chain, (this.#lastList = []));
      }
      this.#lastList.push(r);
      target = r.target;
    } else if (rule.table === "filter" && FILTER_CHAINS.has(rule.chain)) {
      const r = indexRule(rule);
      this.#filter.push(r);
      target = r.target;
    } else {
      target = targetOf(text);
    }
    if (mayBeUndefined) this.#jump(rule.table, target, rule);
  }

  /** Records a jump to a chain the table does not declare (the first rule per target). */
  #jump(
    table: TableName,
    target: string | undefined,
    rule: { readonly line: number; readonly text: string },
  ): void {
    if (target === undefined || KNOWN_TARGETS.has(target)) return;
    // iptables-save declares every chain of a table before its first rule, so an undeclared
    // target is known right here.
    if (this.#chains.get(table)?.has(target) === true) return;
    const seen = this.#undefinedSeen.get(table);
    if (seen?.has(target) === true || this.#undefined.length >= MAX_UNDEFINED) return;
    if (seen === undefined) this.#undefinedSeen.set(table, new Set([target]));
    else seen.add(target);
    this.#undefined.push({ table, target, line: rule.line, text: rule.text });
  }

  finish(): KubeProxyIndex {
    return {
      chains: this.#chains,
      nat: this.#nat,
      filter: this.#filter,
      undefinedJumps: this.#undefined,
      ...(this.#ipvs === undefined ? {} : { ipvsClusterIpMatch: this.#ipvs }),
    };
  }
}
