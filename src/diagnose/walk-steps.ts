/** Step verdicts shared by the full check and the `--from/--to` walk. */
import type { CheckStep } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";

function bad(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity !== "info");
}

function byNode(findings: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.node ?? "cluster", (counts.get(f.node ?? "cluster") ?? 0) + 1);
  return [...counts].map(([n, c]) => `${n} (${c})`).join(", ");
}

/** node-dataplane over every node: fails on any error or warning from reconciliation. */
export function dataplaneStep(findings: readonly Finding[], nodes: number, ports: number): CheckStep {
  const b = bad(findings);
  if (b.length === 0)
    return {
      check: "node-dataplane",
      ok: true,
      detail: `${ports} service ports match the API on all ${nodes} readable nodes`,
    };
  const codes = [...new Set(b.map((f) => f.code))].join(", ");
  return {
    check: "node-dataplane",
    ok: false,
    detail: `kube-proxy rules disagree with the API on ${byNode(b)}: ${codes}`,
  };
}

/** node-health: duplicates, outliers and known bugs. */
export function healthStep(findings: readonly Finding[]): CheckStep {
  const b = bad(findings);
  if (b.length === 0)
    return { check: "node-health", ok: true, detail: "no duplicate rules, outliers or known iptables bugs" };
  const codes = [...new Set(b.map((f) => f.code))].join(", ");
  return { check: "node-health", ok: false, detail: `node health problems on ${byNode(b)}: ${codes}` };
}
