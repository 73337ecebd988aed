/**
 * A large synthetic report input for the size test and the benchmark: a full check of a big cluster where
 * every Service has a stale endpoint. Data shaped like `diagnose` output, not computed by it.
 */
import type { NodeSummary } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { ChainView, ReportInput } from "../report/html/report-input.ts";
import { chain, node } from "./sample-report-input.ts";

/** Options of {@linkcode largeInput}. */
export interface LargeOptions {
  readonly nodes?: number;
  readonly services?: number;
}

/**
 * A synthetic full-check diagnosis of a big cluster (default 20 nodes, 5,000 Services) where every
 * Service has a stale endpoint somewhere: the worst case for the report's size.
 */
export function largeInput(options: LargeOptions = {}): ReportInput {
  const nodeCount = options.nodes ?? 20;
  const serviceCount = options.services ?? 5_000;
  const nodes: NodeSummary[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const sick = i === 3;
    nodes.push(
      node(
        `worker-${String(i).padStart(2, "0")}`,
        sick ? 1_000_000 : 60_000 + i * 17,
        sick ? 940_000 : 0,
        sick ? "iptables v1.8.4 (nf_tables)" : "iptables v1.8.9 (nf_tables)",
      ),
    );
  }
  const findings: Finding[] = [];
  const views = new Map<string, ChainView[]>();
  for (let s = 0; s < serviceCount; s++) {
    const n = nodes[s % nodeCount]!;
    const svc = `KUBE-SVC-${String(s).padStart(16, "A")}`;
    const sep = `KUBE-SEP-${String(s).padStart(16, "B")}`;
    const ip = `10.42.${(s >> 8) & 255}.${s & 255}`;
    const line = 1_000 + s * 12;
    const text = `-A ${sep} -p tcp -m comment --comment "ns-${s % 50}/svc-${s}:http" -m tcp -j DNAT --to-destination ${ip}:8080`;
    findings.push({
      code: "endpoint-stale",
      severity: "error",
      node: n.node,
      service: `ns-${s % 50}/svc-${s}`,
      message: `${sep} on ${n.node} sends ns-${s % 50}/svc-${s}:80 to ${ip}:8080, which is no ready endpoint`,
      evidence: [
        { file: n.file, line, text },
        { file: "cluster/endpointslices.json", text: `ns-${s % 50}/svc-${s}-abcde: no endpoint ${ip}` },
      ],
      fix: "Restart kube-proxy on the node so it rewrites the Service's rules",
    });
    const list = views.get(n.node) ?? [];
    list.push(
      chain("nat", svc, 100 + s, 2, "cited by a finding", [{ line: line - 1, text: `-A ${svc} -j ${sep}` }]),
    );
    list.push(chain("nat", sep, 200 + s, 2, "cited by a finding", [{ line, text, mark: "evidence" }]));
    views.set(n.node, list);
  }
  const sick = nodes[3]!;
  findings.push({
    code: "rules-outlier",
    severity: "warning",
    node: sick.node,
    message: `${sick.node} has 1,000,000 rules, 16x the median of its peers`,
    evidence: [{ file: sick.file, text: "1,000,000 -A lines" }],
  });
  return {
    ok: false,
    verdict: "broken",
    brokenAt: "node-dataplane",
    atRisk: [],
    summary: `${serviceCount} Services have stale endpoints on ${nodeCount} nodes; ${sick.node} is an outlier`,
    cluster: "large",
    steps: [
      {
        check: "bundle",
        status: "ok",
        ok: true,
        detail: `${nodeCount} nodes, ${serviceCount} Services read`,
      },
    ],
    findings,
    nodes,
    ruleViews: [...views].map(([name, chains]) => ({
      node: name,
      file: `nodes/${name}/iptables-save.txt`,
      chains,
      omittedChains: 0,
    })),
  };
}
