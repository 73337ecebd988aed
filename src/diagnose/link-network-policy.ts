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

import type { NodePolicyVerdict } from "../netpol/kube-router-verdict.ts";
import { type NodeAnswer, netpolFindings } from "../netpol/netpol-findings.ts";
import type { NetpolProtocol, NetpolQuery } from "../netpol/netpol-types.ts";
import { networkPolicyVerdict } from "../netpol/policy-verdict.ts";
import { type Link, plain, undecided, type WalkContext } from "./link.ts";
import { type NetpolEvidence, type PolicyTarget, policyTargets } from "./netpol-evidence.ts";
import { type MissingNodeEvidence, nodeAnswer } from "./netpol-node-answer.ts";
import { crossesBridge } from "./netpol-trace-options.ts";
import { judge, type TargetAnswer } from "./network-policy-judge.ts";

const CHECK = "network-policy";
/** Endpoints checked per question: enough to show a pattern, bounded for large Services. */
const MAX_TARGETS = 8;

function protocolOf(p: string): NetpolProtocol | undefined {
  return p === "tcp" ? "TCP" : p === "udp" ? "UDP" : p === "sctp" ? "SCTP" : undefined;
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
  const walked = new Map<string, NodePolicyVerdict | MissingNodeEvidence>();
  for (const r of roles) {
    if (r.node === undefined) continue;
    const hook = r.role === "client" && q.client.hostNetwork === true ? "OUTPUT" : "FORWARD";
    const key = `${r.node}/${hook}`;
    let a = walked.get(key);
    if (a === undefined) {
      a = nodeAnswer(ctx, ev, r.node, {
        srcIp: q.packet!.srcIp,
        dstIp: target.ip,
        protocol: q.packet!.protocol,
        ...(q.packet!.srcPort === undefined ? {} : { srcPort: q.packet!.srcPort }),
        dstPort: target.port,
        bridged: crossesBridge(q, target.pod.nodeName),
        hook,
      });
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
