/**
 * Hand-built report inputs for tests, the benchmark and the README screenshot: the incident behind
 * netdoctor (eopx-gateway on prod-agent1 cannot reach eopx-register:8848) and a large synthetic
 * cluster. They are data shaped like `diagnose` output, not results computed by it.
 */
import type { CheckStep } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { ReportInput } from "../report/html/report-input.ts";
import { incidentNodes, incidentRuleViews } from "./sample-incident-nodes.ts";
import { incidentTrace } from "./sample-trace.ts";

export { chain, node } from "./sample-incident-nodes.ts";

/** Strings that would run script if the report forgot to escape them in any context. */
export const HOSTILE = {
  comment: `</script><script>window.__pwned=1</script></style><style>body{display:none}</style>"><img src=x onerror="window.__pwned=2">`,
  service: `eopx/"><img src=x onerror=window.__pwned=3><script>window.__pwned=4</script>`,
  pod: `eopx/</style><svg onload=window.__pwned=5>'><script>alert(1)</script>`,
} as const;

const SVC = "KUBE-SVC-GDTA6QNQGKHN2V3T";
const SEP = "KUBE-SEP-7YDL6MIZRSGQXR5F";
const AGENT1 = "nodes/prod-agent1/iptables-save.txt";

/** A rule comment as iptables-save quotes it. */
const q = (s: string): string => JSON.stringify(s);

/** Options of {@linkcode incidentInput}. */
export interface IncidentOptions {
  /** Put {@linkcode HOSTILE} payloads in a rule comment, the Service name and the pod name. */
  readonly hostile?: boolean;
}

/** The checks of the incident: everything up to the client's node is fine, its dataplane and health are not. */
function incidentSteps(service: string, pod: string): CheckStep[] {
  return [
    {
      check: "bundle",
      status: "ok",
      ok: true,
      detail: "3 nodes, 214 pods, 57 Services read from bundle prod",
    },
    {
      check: "dns",
      status: "ok",
      ok: true,
      detail: `"eopx-register" resolves in the pod's search path (eopx.svc.cluster.local) to Service ${service}, ClusterIP 10.43.176.183`,
    },
    {
      check: "service",
      status: "ok",
      ok: true,
      detail: "port 8848/TCP (name http) targets container port 8848",
    },
    {
      check: "endpoints",
      status: "ok",
      ok: true,
      detail: "1 ready endpoint: 10.42.2.31:8848 (pod eopx/eopx-register-0 on prod-agent2)",
    },
    { check: "client-node", status: "ok", ok: true, detail: `${pod} runs on prod-agent1 (pod IP 10.42.1.9)` },
    {
      check: "node-dataplane",
      status: "broken",
      ok: false,
      detail:
        "prod-agent1 DNATs 10.43.176.183:8848 to 10.42.1.17:8848, which is not a ready endpoint: the client sees EHOSTUNREACH",
    },
    {
      check: "node-health",
      status: "broken",
      ok: false,
      detail:
        "prod-agent1 holds 180,214 rules (176,540 exact duplicates) against 248-251 on its peers; iptables v1.8.2 (nf_tables) leaks duplicates (k3s-io/k3s#3117)",
    },
  ];
}

/** The names and rule text the incident's findings quote. */
interface IncidentFindingText {
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
function incidentFindings(text: IncidentFindingText): Finding[] {
  return [staleEndpointFinding(text), ...leakFindings(text.file), pinnedPodIpFinding(text)];
}

/** The incident: DNS and the Service are fine, prod-agent1 DNATs to a pod IP that no longer exists. */
export function incidentInput(options: IncidentOptions = {}): ReportInput {
  const service = options.hostile ? HOSTILE.service : "eopx/eopx-register";
  const pod = options.hostile ? HOSTILE.pod : "eopx/eopx-gateway-7c9f8d5b6-x2x4k";
  const comment = options.hostile ? HOSTILE.comment : "eopx/eopx-register:http";
  const svcRule = `-A KUBE-SERVICES -d 10.43.176.183/32 -p tcp -m comment --comment ${q(`${comment} cluster IP`)} -m tcp --dport 8848 -j ${SVC}`;
  const svcJump = `-A ${SVC} -m comment --comment ${q(comment)} -j ${SEP}`;
  const dnat = `-A ${SEP} -p tcp -m comment --comment ${q(comment)} -m tcp -j DNAT --to-destination 10.42.1.17:8848`;
  return {
    ok: false,
    verdict: "broken",
    brokenAt: "node-dataplane",
    atRisk: [],
    summary: `${pod} cannot reach ${service}:8848 because node prod-agent1 still DNATs it to 10.42.1.17:8848, a pod IP that no longer exists (EHOSTUNREACH); the node's 180,214 leaked rules (k3s-io/k3s#3117) keep kube-proxy from updating them`,
    cluster: "prod",
    collectedAt: "2026-11-24T16:02:11Z",
    question: {
      from: pod,
      to: "eopx-register:8848",
      clientNode: "prod-agent1",
      clusterIp: "10.43.176.183",
      port: 8848,
    },
    steps: incidentSteps(service, pod),
    findings: incidentFindings({ service, pod, dnat, sep: SEP, file: AGENT1 }),
    trace: incidentTrace({ svcRule, svcJump, dnat, svc: SVC, sep: SEP, file: AGENT1 }),
    nodes: incidentNodes(),
    ruleViews: incidentRuleViews({ svcRule, svcJump, dnat, comment, svc: SVC, sep: SEP, file: AGENT1 }),
  };
}
