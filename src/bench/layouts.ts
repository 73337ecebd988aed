/**
 * The dump layouts every benchmark runs on (issue 14): the same kind of k3s node written in different
 * orders and mixes, because a tool that is fast on one layout can be slow on another.
 */
import { type GenerateDumpOptions, optionsForRules } from "./generate-dump.ts";

/** A generated layout: its name in tables, and the generator options for a dump of about `rules` rules. */
export interface BenchLayout {
  readonly name: string;
  readonly description: string;
  readonly options: (rules: number) => GenerateDumpOptions;
  /** The size the benches use; the issue's test dump has its own. */
  readonly rules: number;
}

/** The issue's test dump: 965,499 rules, 665,000 distinct kube-proxy rules, ~300,000 leaked copies. */
export const ISSUE_RULES = 965_499;
const ISSUE_COPIES = 300_000;

export const LAYOUTS: readonly BenchLayout[] = [
  {
    name: "kube-proxy",
    description:
      "kube-proxy's write order (chains interleaved, declared unsorted), 2 endpoints per Service, 300,000 leaked copies spread through it: the issue's test dump",
    rules: ISSUE_RULES,
    options: (rules) =>
      optionsForRules(rules, {
        endpointsPerService: 2,
        duplicateShare: ISSUE_COPIES / ISSUE_RULES,
        layout: "kube-proxy",
      }),
  },
  {
    name: "iptables-save",
    description: "the same rules in iptables-save order (each chain's rules together, chains sorted)",
    rules: ISSUE_RULES,
    options: (rules) =>
      optionsForRules(rules, { endpointsPerService: 2, duplicateShare: ISSUE_COPIES / ISSUE_RULES }),
  },
  {
    name: "all-distinct",
    description: "1M distinct rules (3 endpoints per Service, no copies), kube-proxy write order",
    rules: 1_000_000,
    options: (rules) => optionsForRules(rules, { duplicateShare: 0, layout: "kube-proxy" }),
  },
  {
    name: "all-leak",
    description: "1M rules of which 95% are leaked copies of four rules, kube-proxy write order",
    rules: 1_000_000,
    options: (rules) => optionsForRules(rules, { duplicateShare: 0.95, layout: "kube-proxy" }),
  },
];
