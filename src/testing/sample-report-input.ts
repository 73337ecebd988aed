/**
 * Hand-built report inputs for tests, the benchmark and the README screenshot: the incident behind
 * netdoctor (eopx-gateway on prod-agent1 cannot reach eopx-register:8848) and a large synthetic
 * cluster. They are data shaped like `diagnose` output, not results computed by it.
 */
import type { CheckStep, NodeSummary } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { ChainView, NodeRuleView, ReportInput } from "../report/html/report-input.ts";
import { incidentTrace } from "./sample-trace.ts";

/** Strings that would run script if the report forgot to escape them in any context. */
export const HOSTILE = {
  comment: `</script><script>window.__pwned=1</script></style><style>body{display:none}</style>"><img src=x onerror="window.__pwned=2">`,
  service: `eopx/"><img src=x onerror=window.__pwned=3><script>window.__pwned=4</script>`,
  pod: `eopx/</style><svg onload=window.__pwned=5>'><script>alert(1)</script>`,
} as const;

const SVC = "KUBE-SVC-GDTA6QNQGKHN2V3T";
const SEP = "KUBE-SEP-7YDL6MIZRSGQXR5F";
const AGENT1 = "nodes/prod-agent1/iptables-save.txt";

/** Options of {@linkcode incidentInput}. */
export interface IncidentOptions {
  /** Put {@linkcode HOSTILE} payloads in a rule comment, the Service name and the pod name. */
  readonly hostile?: boolean;
}

/** The incident: DNS and the Service are fine, prod-agent1 DNATs to a pod IP that no longer exists. */
export function incidentInput(options: IncidentOptions = {}): ReportInput {
  const service = options.hostile ? HOSTILE.service : "eopx/eopx-register";
  const pod = options.hostile ? HOSTILE.pod : "eopx/eopx-gateway-7c9f8d5b6-x2x4k";
  const comment = options.hostile ? HOSTILE.comment : "eopx/eopx-register:http";
  const q = (s: string) => JSON.stringify(s);
  const svcRule = `-A KUBE-SERVICES -d 10.43.176.183/32 -p tcp -m comment --comment ${q(`${comment} cluster IP`)} -m tcp --dport 8848 -j ${SVC}`;
  const svcJump = `-A ${SVC} -m comment --comment ${q(comment)} -j ${SEP}`;
  const dnat = `-A ${SEP} -p tcp -m comment --comment ${q(comment)} -m tcp -j DNAT --to-destination 10.42.1.17:8848`;
  const steps: CheckStep[] = [
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
  const findings: Finding[] = [
    {
      code: "endpoint-stale",
      severity: "error",
      node: "prod-agent1",
      service,
      pod,
      message: `${SEP} on prod-agent1 sends ${service}:8848 to 10.42.1.17:8848, which is no ready endpoint (ready: 10.42.2.31:8848)`,
      evidence: [
        { file: AGENT1, line: 172_389, text: dnat },
        {
          file: "cluster/endpointslices.json",
          text: "eopx/eopx-register-x7k2p: 10.42.2.31 ready (pod eopx/eopx-register-0, node prod-agent2)",
        },
      ],
      fix: "Stop the duplicate leak on prod-agent1 (see iptables-known-bug), then restart k3s there so kube-proxy rewrites the node's rules",
      references: ["k3s-io/k3s#3117"],
    },
    {
      code: "rules-duplicated",
      severity: "error",
      node: "prod-agent1",
      message: "prod-agent1 has 176,540 exact duplicate rules in 14 groups, owned by kube-proxy and flannel",
      evidence: [
        {
          file: AGENT1,
          line: 2_051,
          text: `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP (44,135 copies)`,
        },
        {
          file: AGENT1,
          line: 2_052,
          text: `-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP (44,135 copies)`,
        },
        {
          file: AGENT1,
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
      evidence: [{ file: AGENT1, text: "180,214 -A lines" }],
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
    {
      code: "config-pod-ip",
      severity: "warning",
      pod,
      service,
      message: `${pod} pins the pod IP 10.42.2.31 of eopx/eopx-register-0 in env EOPX_REGISTER_ADDR: it breaks when that pod restarts`,
      evidence: [
        { file: "cluster/pods.json", text: "env EOPX_REGISTER_ADDR=10.42.2.31:8848 (container gateway)" },
      ],
      fix: "Use the Service name eopx-register.eopx.svc:8848 instead of a pod IP",
    },
  ];
  const nodes: NodeSummary[] = [
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
  const ruleViews: NodeRuleView[] = [
    {
      node: "prod-agent1",
      file: AGENT1,
      omittedChains: 0,
      chains: [
        chain("nat", "KUBE-SERVICES", 40, 171_877, "has the Service's ClusterIP entry", [
          { line: 171_902, text: svcRule, mark: "trace" },
        ]),
        chain("nat", SVC, 61, 1, "on the traced path", [{ line: 172_310, text: svcJump, mark: "trace" }]),
        chain("nat", SEP, 77, 2, "on the traced path", [
          {
            line: 172_388,
            text: `-A ${SEP} -s 10.42.1.17/32 -m comment --comment ${q(comment)} -j KUBE-MARK-MASQ`,
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
          { line: 131, text: svcRule.replace(/ -j .*/, ` -j ${SVC}`) },
        ]),
        chain("nat", SVC, 60, 1, "jumped to from the Service's entry", [
          { line: 219, text: `-A ${SVC} -m comment --comment ${q(comment)} -j KUBE-SEP-QX4MHNUAVU5JHCAZ` },
        ]),
      ],
    },
  ];
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
    steps,
    findings,
    trace: incidentTrace({ svcRule, svcJump, dnat, svc: SVC, sep: SEP, file: AGENT1 }),
    nodes,
    ruleViews,
  };
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
