/**
 * The nodes of the sample incident of sample-report-input.ts: prod-agent1 with its leaked rules and
 * two healthy peers, and the excerpts of their Service chains. Data shaped like `diagnose` output.
 */
import type { NodeSummary } from "../model/diagnosis.ts";
import type { ChainView, NodeRuleView } from "../report/html/report-input.ts";
import type { IncidentRules } from "./sample-trace.ts";

/** A rule comment as iptables-save quotes it. */
const q = (s: string): string => JSON.stringify(s);

/** The three nodes: prod-agent1 with its leaked rules and a kube-proxy that lags, its two healthy peers. */
export function incidentNodes(): NodeSummary[] {
  return [
    node("prod-master2", 251, 0, "iptables v1.8.9 (nf_tables)"),
    {
      ...node("prod-agent1", 180_214, 176_540, "iptables v1.8.2 (nf_tables)"),
      knownBugs: ["k3s-io/k3s#3117"],
      kubeProxy: {
        mode: "iptables",
        modeReason: 'kube-proxy reports proxy mode "iptables"',
        modeEvidence: [{ file: "nodes/prod-agent1/kube-proxy-mode.txt", line: 1, text: "iptables" }],
        era: { label: "v1.24 or later", min: 24, evidence: [] },
        health: {
          summary:
            'kube-proxy on "prod-agent1" last synced 42 minutes ago (at collection), 3 restore failures',
          syncAgeSeconds: 2520,
          restoreFailures: 3,
          canaryMissing: [],
          evidence: [],
        },
      },
    },
    node("prod-agent2", 248, 0, "iptables v1.8.9 (nf_tables)"),
  ];
}

/** The excerpts of the traced chains on prod-agent1 and of the same Service's chains on prod-master2. */
export function incidentRuleViews(text: IncidentRules & { readonly comment: string }): NodeRuleView[] {
  const { svcRule, svcJump, dnat, comment, svc, sep, file } = text;
  return [
    {
      node: "prod-agent1",
      file,
      omittedChains: 0,
      chains: [
        chain("nat", "KUBE-SERVICES", 40, 171_877, "has the Service's ClusterIP entry", [
          { line: 171_902, text: svcRule, mark: "trace" },
        ]),
        chain("nat", svc, 61, 1, "on the traced path", [{ line: 172_310, text: svcJump, mark: "trace" }]),
        chain("nat", sep, 77, 2, "on the traced path", [
          {
            line: 172_388,
            text: `-A ${sep} -s 10.42.1.17/32 -m comment --comment ${q(comment)} -j KUBE-MARK-MASQ`,
          },
          { line: 172_389, text: dnat, mark: "evidence" },
        ]),
      ],
    },
    {
      node: "prod-master2",
      file: "nodes/prod-master2/iptables-save.txt",
      omittedChains: 0,
      chains: [
        chain("nat", "KUBE-SERVICES", 38, 64, "has the Service's ClusterIP entry", [
          { line: 131, text: svcRule.replace(/ -j .*/, ` -j ${svc}`) },
        ]),
        chain("nat", svc, 60, 1, "jumped to from the Service's entry", [
          { line: 219, text: `-A ${svc} -m comment --comment ${q(comment)} -j KUBE-SEP-QX4MHNUAVU5JHCAZ` },
        ]),
      ],
    },
  ];
}

/** A readable node summary with an iptables version. */
export function node(name: string, rules: number, duplicateRules: number, version: string): NodeSummary {
  return {
    node: name,
    file: `nodes/${name}/iptables-save.txt`,
    readable: true,
    rules,
    chains: Math.max(12, Math.round(rules / 40)),
    duplicateRules,
    header: { program: "iptables-save", version: version.split(" ")[1] ?? "", backend: "nf_tables", line: 1 },
    iptablesVersion: version,
    knownBugs: [],
  };
}

/** A chain excerpt. */
export function chain(
  table: ChainView["table"],
  name: string,
  line: number,
  totalRules: number,
  reason: string,
  rules: ChainView["rules"],
): ChainView {
  return { table, chain: name, line, totalRules, rules, reason };
}
