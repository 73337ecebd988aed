/**
 * Picks the chains that matter on one node from its parsed rules, for the report's rule view: the chains
 * of the traced path, the chains holding lines that findings cite, and the Service's chains
 * (its KUBE-SERVICES entry and the KUBE-SVC/SVL/EXT/FW/SEP chains it leads to). A huge chain contributes
 * only its relevant lines, so a node with 180,000 rules adds a few kilobytes, not its dump.
 */
import type { Chain, Rule, Ruleset, TableName } from "../../model/ruleset.ts";
import type { ChainView, NodeRuleView, RuleLineView } from "./report-input.ts";
import { MAX_CHAINS_PER_NODE, MAX_RULES_PER_CHAIN } from "./rule-views.ts";

/** Options of {@linkcode nodeRuleView}. */
export interface NodeRuleViewOptions {
  readonly node: string;
  /** Bundle-relative path of the dump, for the view's evidence. */
  readonly file: string;
  /** Dump lines of the traced path on this node. */
  readonly traceLines?: Iterable<number>;
  /** Dump lines that findings cite on this node. */
  readonly evidenceLines?: Iterable<number>;
  /** The Service's ClusterIP (or any destination IP) whose KUBE-SERVICES entries matter. */
  readonly serviceIp?: string;
  /** The Service port, to narrow the entries when given. */
  readonly port?: number;
  readonly maxChains?: number;
  readonly maxRulesPerChain?: number;
}

/** Service chains followed at most (a Service with 5,000 endpoints has 5,000 SEP chains). */
const MAX_FOLLOWED_CHAINS = 1_000;
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-/;

function isServiceEntry(rule: Rule, ip: string, port: number | undefined): boolean {
  if (!rule.text.includes(ip)) return false;
  const d = rule.spec.destination;
  if (d === undefined || d.negated || (d.value !== ip && d.value !== `${ip}/32`)) return false;
  if (port === undefined) return true;
  const dport = rule.spec.matches.flatMap((m) => m.options).find((o) => o.name === "--dport");
  return dport === undefined || dport.values[0] === String(port);
}

/** Marks a chain as relevant: why it matters and, optionally, one of its lines to show. */
type Want = (chain: Chain, reason: string, line?: number) => void;

/**
 * Marks the Service's KUBE-SERVICES entries (recording their lines in `serviceLines`) and the
 * KUBE-SVC/SVL/EXT/FW/SEP/XLB chains they lead to.
 */
function wantServiceChains(
  ruleset: Ruleset,
  at: {
    readonly ip: string;
    readonly port: number | undefined;
    readonly want: Want;
    readonly serviceLines: Set<number>;
  },
): void {
  const { ip, port, want, serviceLines } = at;
  const byName = (table: TableName, name: string) => ruleset.tables.get(table)?.chains.get(name);
  const queue: Chain[] = [];
  for (const table of ["nat", "filter"] as const) {
    const services = byName(table, "KUBE-SERVICES");
    for (const rule of services?.rules ?? []) {
      if (!isServiceEntry(rule, ip, port)) continue;
      want(services!, "has the Service's entries", rule.line);
      serviceLines.add(rule.line);
      const target = rule.spec.target?.name;
      const next = target === undefined ? undefined : byName(table, target);
      if (next !== undefined) queue.push(next);
    }
  }
  // Follow the Service's own chains (bounded: a Service with many endpoints has many SEP chains).
  const seen = new Set<string>();
  for (let i = 0; i < queue.length && seen.size < MAX_FOLLOWED_CHAINS; i++) {
    const chain = queue[i]!;
    const key = `${chain.table}/${chain.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    want(chain, "a chain of the Service");
    for (const rule of chain.rules) {
      const t = rule.spec.target?.name;
      const next = t !== undefined && SERVICE_CHAIN.test(t) ? byName(chain.table, t) : undefined;
      if (next !== undefined) queue.push(next);
    }
  }
}

/** The chains that matter on one node, with their relevant lines marked. */
export function nodeRuleView(ruleset: Ruleset, options: NodeRuleViewOptions): NodeRuleView {
  const maxChains = options.maxChains ?? MAX_CHAINS_PER_NODE;
  const maxRules = options.maxRulesPerChain ?? MAX_RULES_PER_CHAIN;
  const trace = new Set(options.traceLines ?? []);
  const evidence = new Set(options.evidenceLines ?? []);
  const serviceLines = new Set<number>();
  // chain key -> why it matters and which of its lines to show when it is too big to show whole
  const wanted = new Map<string, { chain: Chain; reason: string; lines: Set<number> }>();
  const order: string[] = [];
  const want: Want = (chain, reason, line) => {
    const key = `${chain.table}/${chain.name}`;
    let w = wanted.get(key);
    if (w === undefined) {
      w = { chain, reason, lines: new Set() };
      wanted.set(key, w);
      order.push(key);
    }
    if (line !== undefined) w.lines.add(line);
  };

  // One pass over every rule: cheap set look-ups, so a million-rule dump stays fast.
  for (const table of ruleset.tables.values()) {
    for (const chain of table.chains.values()) {
      for (const rule of chain.rules) {
        if (trace.has(rule.line)) want(chain, "on the traced path", rule.line);
        else if (evidence.has(rule.line)) want(chain, "cited by a finding", rule.line);
      }
      if (trace.has(chain.line)) want(chain, "on the traced path (policy)");
    }
  }
  if (options.serviceIp !== undefined)
    wantServiceChains(ruleset, { ip: options.serviceIp, port: options.port, want, serviceLines });

  const chains: ChainView[] = order.slice(0, maxChains).map((key) => {
    const { chain, reason, lines } = wanted.get(key)!;
    const all = chain.rules.length <= maxRules;
    const picked = all ? chain.rules : chain.rules.filter((r) => lines.has(r.line)).slice(0, maxRules);
    const rules: RuleLineView[] = picked.map((r) => {
      const mark = trace.has(r.line)
        ? "trace"
        : evidence.has(r.line)
          ? "evidence"
          : serviceLines.has(r.line)
            ? "service"
            : undefined;
      return mark === undefined ? { line: r.line, text: r.text } : { line: r.line, text: r.text, mark };
    });
    return {
      table: chain.table,
      chain: chain.name,
      line: chain.line,
      totalRules: chain.rules.length,
      rules,
      reason,
    };
  });
  return {
    node: options.node,
    file: options.file,
    chains,
    omittedChains: Math.max(0, order.length - maxChains),
  };
}
