/**
 * Whether a node's kube-proxy runs in IPVS mode, from its iptables glue: in IPVS mode nat
 * KUBE-SERVICES matches Service addresses with `-m set --match-set KUBE-CLUSTER-IP dst,dst` instead
 * of one rule per Service (pkg/proxy/ipvs/proxier.go writeIptablesRules), and there are no
 * KUBE-SVC-* chains. The answer carries the rule that proves it.
 */
import type { Evidence } from "../../model/finding.ts";
import type { Ruleset } from "../../model/ruleset.ts";

export interface IpvsModeEvidence {
  readonly ipvs: boolean;
  readonly evidence: readonly Evidence[];
}

/** IPVS mode when a nat rule matches the KUBE-CLUSTER-IP set (IPv4) or KUBE-6-CLUSTER-IP (IPv6). */
export function detectIpvsMode(ruleset: Ruleset, file: string): IpvsModeEvidence {
  const nat = ruleset.tables.get("nat");
  for (const chain of nat?.chains.values() ?? []) {
    for (const rule of chain.rules) {
      const set = rule.spec.matches.find(
        (m) =>
          m.module === "set" &&
          m.options.some((o) => o.values[0] === "KUBE-CLUSTER-IP" || o.values[0] === "KUBE-6-CLUSTER-IP"),
      );
      if (set !== undefined) return { ipvs: true, evidence: [{ file, line: rule.line, text: rule.text }] };
    }
  }
  return { ipvs: false, evidence: [] };
}
