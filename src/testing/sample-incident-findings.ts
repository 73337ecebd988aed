/**
 * The findings of the sample incident of sample-report-input.ts: a stale DNAT on prod-agent1, the
 * duplicate leak behind it and a pod IP pinned in configuration. Data shaped like `diagnose`
 * output, not computed by it.
 */
import type { Finding } from "../model/finding.ts";

/** The names and rule text the incident's findings quote. */
export interface IncidentFindingText {
  readonly service: string;
  readonly pod: string;
  /** The DNAT rule of the stale endpoint's chain. */
  readonly dnat: string;
  /** That chain (KUBE-SEP-...). */
  readonly sep: string;
  /** prod-agent1's iptables-save file. */
  readonly file: string;
}

/** prod-agent1 still DNATs the Service to a pod IP that is no ready endpoint. */
function staleEndpointFinding(text: IncidentFindingText): Finding {
  const { service, pod, dnat, sep, file } = text;
  return {
    code: "endpoint-stale",
    severity: "error",
    node: "prod-agent1",
    service,
    pod,
    message: `${sep} on prod-agent1 sends ${service}:8848 to 10.42.1.17:8848, which is no ready endpoint (ready: 10.42.2.31:8848)`,
    evidence: [
      { file, line: 172_389, text: dnat },
      {
        file: "cluster/endpointslices.json",
        text: "eopx/eopx-register-x7k2p: 10.42.2.31 ready (pod eopx/eopx-register-0, node prod-agent2)",
      },
    ],
    fix: "Stop the duplicate leak on prod-agent1 (see iptables-known-bug), then restart k3s there so kube-proxy rewrites the node's rules",
    references: ["k3s-io/k3s#3117"],
  };
}

/** The duplicate leak of iptables 1.8.2 (nf_tables) on prod-agent1 and what it does to the rule count. */
function leakFindings(file: string): Finding[] {
  return [
    {
      code: "rules-duplicated",
      severity: "error",
      node: "prod-agent1",
      message: "prod-agent1 has 176,540 exact duplicate rules in 14 groups, owned by kube-proxy and flannel",
      evidence: [
        {
          file,
          line: 2_051,
          text: `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP (44,135 copies)`,
        },
        {
          file,
          line: 2_052,
          text: `-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP (44,135 copies)`,
        },
        {
          file,
          line: 90_101,
          text: `-A FLANNEL-FWD -s 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT (44,134 copies)`,
        },
      ],
      fix: "Upgrade iptables to 1.8.5 or later, or k3s to v1.23.15 or later started with --prefer-bundled-bin; then reboot the node or flush the duplicated chains",
      references: ["k3s-io/k3s#3117"],
    },
    {
      code: "rules-outlier",
      severity: "warning",
      node: "prod-agent1",
      message: "prod-agent1 has 180,214 rules, 721x the median of its peers (250)",
      evidence: [{ file, text: "180,214 -A lines" }],
    },
    {
      code: "iptables-known-bug",
      severity: "error",
      node: "prod-agent1",
      message: "iptables v1.8.2 on the nf_tables backend duplicates rules on every k3s restart",
      evidence: [
        { file: "nodes/prod-agent1/iptables-version.txt", line: 1, text: "iptables v1.8.2 (nf_tables)" },
      ],
      fix: "Upgrade the node's iptables to 1.8.5 or later, or run k3s >= v1.23.15 with --prefer-bundled-bin",
      references: ["k3s-io/k3s#3117", "https://github.com/k3s-io/k3s/issues/3117"],
    },
  ];
}

/** The client pins the register pod's IP in its environment. */
function pinnedPodIpFinding(text: IncidentFindingText): Finding {
  const { service, pod } = text;
  return {
    code: "config-pod-ip",
    severity: "warning",
    pod,
    service,
    message: `${pod} pins the pod IP 10.42.2.31 of eopx/eopx-register-0 in env EOPX_REGISTER_ADDR: it breaks when that pod restarts`,
    evidence: [
      { file: "cluster/pods.json", text: "env EOPX_REGISTER_ADDR=10.42.2.31:8848 (container gateway)" },
    ],
    fix: "Use the Service name eopx-register.eopx.svc:8848 instead of a pod IP",
  };
}

/** The incident's findings, in the order `diagnose` reports them. */
export function incidentFindings(text: IncidentFindingText): Finding[] {
  return [staleEndpointFinding(text), ...leakFindings(text.file), pinnedPodIpFinding(text)];
}
