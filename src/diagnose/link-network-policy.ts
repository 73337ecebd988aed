/**
 * The network-policy link: may the client pod reach the endpoint pod (after Service resolution) on
 * the target port, as NetworkPolicy sees it? Two answers for each endpoint: the API's (which
 * policies select the client for egress and the endpoint for ingress, and which rule allows, with
 * the line of each policy in cluster/networkpolicies.json) and the node's proof (kube-router's
 * chains and ipsets, walked on the client's node for egress and on the endpoint's node for
 * ingress). `netpolFindings` turns disagreements into findings. The link is broken when the
 * connection is denied on the node (netpol-denied, or netpol-node-disagrees where the node rejects);
 * at risk when the node lets through what the API denies; undecided when policies select the pods
 * but the node's evidence (dump, ipset save) is missing; ok when nothing isolates the pods or every
 * answer allows.
 */

import { checkStep } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { nodeAddresses } from "../net/node-addresses.ts";
import type { NodePolicyVerdict } from "../netpol/kube-router-verdict.ts";
import { kubeRouterVerdict } from "../netpol/kube-router-verdict.ts";
import { type NodeAnswer, netpolFindings } from "../netpol/netpol-findings.ts";
import type { NetpolProtocol, NetpolQuery, NetpolVerdict } from "../netpol/netpol-types.ts";
import { networkPolicyVerdict } from "../netpol/policy-verdict.ts";
import { collectNode, type Link, plain, undecided, type WalkContext } from "./link.ts";
import { type NetpolEvidence, type PolicyTarget, policyTargets } from "./netpol-evidence.ts";
import { crossesBridge } from "./netpol-trace-options.ts";
import { describeNodeVerdict, nodeMissing, policyList, rejectSees } from "./network-policy-words.ts";

const CHECK = "network-policy";
/** Endpoints checked per question: enough to show a pattern, bounded for large Services. */
const MAX_TARGETS = 8;

/** The answer for one endpoint. */
interface TargetAnswer {
  readonly target: PolicyTarget;
  readonly api: NetpolVerdict;
  readonly nodes: readonly NodeAnswer[];
  readonly findings: readonly Finding[];
  /** What node evidence the answer lacks, with how to get it. */
  readonly missing: readonly { readonly what: string; readonly how: string }[];
}

function protocolOf(p: string): NetpolProtocol | undefined {
  return p === "tcp" ? "TCP" : p === "udp" ? "UDP" : p === "sctp" ? "SCTP" : undefined;
}

/** The node's kube-router answer for the packet, or what is missing to get it. */
function nodeAnswer(
  ctx: WalkContext,
  ev: NetpolEvidence,
  at: { readonly node: string; readonly target: PolicyTarget; readonly hook: "FORWARD" | "OUTPUT" },
): NodePolicyVerdict | { readonly what: string; readonly how: string } {
  const n = ev.nodes.get(at.node);
  if (n?.ruleset === undefined)
    return { what: `nodes/${at.node}/iptables-save.txt`, how: collectNode(at.node) };
  const q = ctx.question;
  const nodeObj = ctx.cluster.nodes.find((x) => x.metadata.name === at.node);
  const localIps = (nodeObj === undefined ? [] : nodeAddresses(nodeObj)).flatMap((a) => {
    const ip = parseIpv4(a.address);
    return ip === undefined ? [] : [ip];
  });
  const v = kubeRouterVerdict(
    n.ruleset,
    {
      src: parseIpv4(q.packet!.srcIp)!,
      dst: parseIpv4(at.target.ip)!,
      proto: q.packet!.protocol,
      sport: q.packet!.srcPort ?? -1,
      dport: at.target.port,
    },
    {
      node: at.node,
      file: n.file,
      sets: n.ipsets,
      ...(localIps.length === 0 ? {} : { localIps }),
      bridged: crossesBridge(q, at.target.pod.nodeName),
      hook: at.hook,
    },
  );
  if (v.decision === "undecided" && n.ipsets === undefined)
    return { what: n.ipsetFile, how: nodeMissing(at.node, "ipset save") };
  return v;
}

function answerFor(ctx: WalkContext, ev: NetpolEvidence, target: PolicyTarget): TargetAnswer {
  const q = ctx.question;
  const client = q.client.hostNetwork === true ? { ip: q.packet!.srcIp } : q.client;
  const query: NetpolQuery = {
    client,
    server: target.pod,
    port: target.port,
    protocol: protocolOf(q.packet!.protocol)!,
  };
  const api = networkPolicyVerdict({ state: ev.state }, query);
  const nodes: NodeAnswer[] = [];
  const missing: { what: string; how: string }[] = [];
  const clientNode = q.client.nodeName;
  const serverNode = target.pod.nodeName;
  const roles: { role: "client" | "server"; node: string | undefined; selects: boolean }[] = [
    { role: "client", node: clientNode, selects: api.egress.selecting.length > 0 },
    { role: "server", node: serverNode, selects: api.ingress.selecting.length > 0 },
  ];
  const walked = new Map<string, ReturnType<typeof nodeAnswer>>();
  for (const r of roles) {
    if (r.node === undefined) continue;
    const hook = r.role === "client" && q.client.hostNetwork === true ? "OUTPUT" : "FORWARD";
    const key = `${r.node}/${hook}`;
    let a = walked.get(key);
    if (a === undefined) {
      a = nodeAnswer(ctx, ev, { node: r.node, target, hook });
      walked.set(key, a);
    }
    if ("decision" in a) nodes.push({ role: r.role, verdict: a });
    else if (r.selects) missing.push(a);
  }
  const service = q.expected?.service;
  const findings = netpolFindings({ query, api, nodes, ...(service === undefined ? {} : { service }) });
  return { target, api, nodes, findings, missing };
}

/** When the bundle cannot say anything about policies: not collected, unreadable, or none at all. */
function withoutPolicies(ev: NetpolEvidence | undefined, ctx: WalkContext): Link | undefined {
  const file = "cluster/networkpolicies.json";
  const bad = ev?.problems.filter((p) => p.evidence[0]?.file === file) ?? [];
  if (bad.length > 0 || ctx.gaps.has(file))
    return undecided(
      CHECK,
      `${file} could not be read (see bundle-invalid): whether a NetworkPolicy blocks the connection is not known`,
      { missing: file, howToGet: "`kubectl get networkpolicies -A -o json > cluster/networkpolicies.json`" },
      bad,
    );
  const policies = ev?.state.policies;
  if (policies === undefined)
    return undecided(
      CHECK,
      `the bundle has no ${file}: whether a NetworkPolicy blocks the connection is not known`,
      {
        missing: `${file} (and cluster/namespaces.json)`,
        howToGet:
          "`netdoctor collect` again, or `kubectl get networkpolicies -A -o json > cluster/networkpolicies.json` and `kubectl get namespaces -o json > cluster/namespaces.json`",
      },
    );
  if (policies.length === 0)
    return plain(CHECK, "ok", `no NetworkPolicy in ${file}: nothing isolates the client or the endpoints`);
  return undefined;
}

/** The network-policy link of a question. */
export function networkPolicyLink(ctx: WalkContext): Link {
  const q = ctx.question;
  if (q.packet === undefined)
    return plain(CHECK, "not-applicable", `no connection to check: ${q.noPacket ?? "no packet"}`);
  if (protocolOf(q.packet.protocol) === undefined)
    return plain(
      CHECK,
      "not-applicable",
      `NetworkPolicy ports are TCP, UDP or SCTP, not ${q.packet.protocol}`,
    );
  const all = policyTargets(q, ctx.cluster);
  if (all.length === 0)
    return plain(
      CHECK,
      "not-applicable",
      q.targets === undefined || q.targets.length === 0
        ? "no endpoint pod to check policies against"
        : `the targets (${q.targets.join(", ")}) are not pods: NetworkPolicy is checked between pods`,
    );
  const early = withoutPolicies(ctx.netpol, ctx);
  if (early !== undefined) return early;
  const ev = ctx.netpol!;
  const answers = all.slice(0, MAX_TARGETS).map((t) => answerFor(ctx, ev, t));
  return judge(ctx, answers, all.length);
}

function dedupe(fs: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return fs.filter((f) => !seen.has(f.message) && seen.add(f.message) !== undefined);
}

type State = "broken" | "undecided" | "at-risk" | "ok";
const RANK: Readonly<Record<State, number>> = { broken: 0, undecided: 1, "at-risk": 2, ok: 3 };

/** How one endpoint's answers combine: the node's rejection decides; the API alone never proves a drop. */
function stateOf(a: TargetAnswer): State {
  if (a.nodes.some((n) => n.verdict.decision === "denied")) return "broken";
  if (a.missing.length > 0 || undecidedNodes(a).length > 0) return "undecided";
  if (a.api.decision === "denied") return "at-risk";
  if (a.api.decision === "undecided" && !a.nodes.some((n) => n.verdict.decision === "allowed"))
    return "undecided";
  return "ok";
}

/** Enforcing nodes whose walk could not decide, for a direction a policy isolates. */
function undecidedNodes(a: TargetAnswer): NodePolicyVerdict[] {
  return a.nodes
    .filter(
      (n) =>
        n.verdict.decision === "undecided" &&
        (n.role === "client" ? a.api.egress : a.api.ingress).selecting.length > 0,
    )
    .map((n) => n.verdict);
}

/** The link from the answers of the endpoints checked (`total` endpoints in all). */
function judge(ctx: WalkContext, answers: readonly TargetAnswer[], total: number): Link {
  const findings = dedupe(answers.flatMap((a) => a.findings));
  const codes = [...new Set(findings.map((f) => f.code))];
  const states = answers.map(stateOf);
  const worst = states.reduce((w, s) => (RANK[s] < RANK[w] ? s : w), "ok" as State);
  const a = answers[states.indexOf(worst)]!;
  const count = states.filter((s) => s === worst).length;
  const of = total > 1 ? ` (${count} of ${total} endpoints)` : "";
  switch (worst) {
    case "broken": {
      const proof = a.findings.find((f) => f.severity === "error")!;
      const node = a.nodes.find((n) => n.verdict.decision === "denied")!.verdict;
      const sees = rejectSees(node, ctx.question.packet!.protocol);
      return {
        step: checkStep(CHECK, "broken", `${proof.message}${of}; ${describeNodeVerdict(node)}`, {
          findings: codes,
        }),
        findings: [proof, ...findings.filter((f) => f !== proof)],
        proof,
        ...(sees === undefined ? {} : { clientSees: sees }),
      };
    }
    case "undecided":
      return undecidedLink(a, findings, of);
    case "at-risk": {
      const f = findings.find((x) => x.severity !== "info");
      const detail = `${f?.message ?? `the API denies it (${policyList(a.api)}) but the node lets it through`}${of}`;
      return {
        step: checkStep(CHECK, "at-risk", detail, { findings: codes }),
        findings,
        risk: codes.join(", ") || "policy not enforced",
      };
    }
    case "ok":
      return {
        step: checkStep(
          CHECK,
          "ok",
          allowedDetail(a, total > 1 ? ` (${answers.length} of ${total} endpoints checked)` : ""),
          {
            ...(codes.length === 0 ? {} : { findings: codes }),
          },
        ),
        findings,
      };
    default: {
      const never: never = worst;
      return never;
    }
  }
}

/** Undecided: the node's evidence is missing or its walk stopped, or the API cannot decide. */
function undecidedLink(a: TargetAnswer, findings: readonly Finding[], of: string): Link {
  const apiText =
    a.api.decision === "denied"
      ? `the API denies it (${policyList(a.api)})`
      : a.api.decision === "allowed"
        ? `policies select the pods (${policyList(a.api)})`
        : `the API cannot decide (${[a.api.egress, a.api.ingress].find((x) => x.decision === "undecided")?.reason ?? "unknown"})`;
  if (a.missing.length > 0) {
    const what = [...new Set(a.missing.map((m) => m.what))];
    return undecided(
      CHECK,
      `${apiText}, but the node's proof is missing: ${what.join(", ")}${of}`,
      { missing: what.join(", "), howToGet: [...new Set(a.missing.map((m) => m.how))].join("; ") },
      findings,
    );
  }
  const stuck = undecidedNodes(a);
  if (stuck.length > 0)
    return undecided(
      CHECK,
      `${apiText}, but ${stuck.map(describeNodeVerdict).join("; ")}${of}`,
      {
        missing: "what the node's NetworkPolicy rules do with the packet",
        howToGet: `read the rules on the path by hand, or \`netdoctor trace --bundle DIR --node ${stuck[0]!.node}\``,
      },
      findings,
    );
  return undecided(
    CHECK,
    `${apiText}${of}`,
    {
      missing:
        [...a.api.egress.missing, ...a.api.ingress.missing].join("; ") || "the objects the policies refer to",
      howToGet: "`netdoctor collect` again (cluster/namespaces.json, cluster/pods.json)",
    },
    findings,
  );
}

/** Whether a policy selects the client (egress) or the endpoint (ingress). */
function selects(a: TargetAnswer): boolean {
  return a.api.egress.selecting.length > 0 || a.api.ingress.selecting.length > 0;
}

function allowedDetail(a: TargetAnswer, count: string): string {
  const by = [...a.api.egress.allowedBy, ...a.api.ingress.allowedBy];
  const api = !selects(a)
    ? "no NetworkPolicy selects the client (egress) or the endpoint (ingress)"
    : `allowed by ${[...new Set(by.map((r) => `NetworkPolicy ${r.policy.namespace}/${r.policy.name}${r.policy.line === undefined ? "" : ` (${r.policy.file ?? "cluster/networkpolicies.json"}:${r.policy.line})`}`))].join(", ")}`;
  const nodes = [...new Map(a.nodes.map((n) => [n.verdict.node, n.verdict])).values()].map(
    describeNodeVerdict,
  );
  return `${a.target.pod.metadata.namespace}/${a.target.pod.metadata.name}:${a.target.port}: ${api}${nodes.length === 0 ? "" : `; ${nodes.join("; ")}`}${count}`;
}
