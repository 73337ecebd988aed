/**
 * Whether NetworkPolicy lets the client resolve the name at all: its queries to the cluster DNS
 * pods on 53/UDP (netpol/dns-verdict.ts for the API), proven on the node that enforces the denying
 * side (the client's node for egress, the DNS pod's node for ingress) like the network-policy link.
 * Used by the dns link: broken (`netpol-dns-denied`) when the node rejects, undecided when its
 * evidence is missing, at risk when the node lets the queries through; no answer (undefined) when
 * no policy stops them.
 */
import { checkStep } from "../model/diagnosis.ts";
import { dnsFindings, dnsTargets, dnsVerdict } from "../netpol/dns-verdict.ts";
import { type Link, undecided, type WalkContext } from "./link.ts";
import { nodeAnswer } from "./netpol-node-answer.ts";
import { describeNodeVerdict } from "./network-policy-words.ts";

/** The dns link's answer about NetworkPolicy, or undefined when policies do not stop the queries. */
export function dnsPolicyLink(ctx: WalkContext): Link | undefined {
  const ev = ctx.netpol;
  const q = ctx.question;
  if (ev === undefined || (ev.state.policies?.length ?? 0) === 0 || q.client.podIP === undefined)
    return undefined;
  const targets = dnsTargets(ctx.cluster);
  if (typeof targets === "string") return undefined;
  const v = dnsVerdict({ state: ev.state }, q.client, targets);
  if (v.decision !== "denied") return undefined;
  const findings = dnsFindings(q.client, v);
  const proof = findings[0]!;
  const denied = v.tried.find((t) => t.target.protocol === "UDP" && t.verdict.decision === "denied")!;
  const egress = denied.verdict.egress.decision === "denied";
  const node = egress ? q.client.nodeName : denied.target.pod.nodeName;
  if (node === undefined) return undefined;
  const a = nodeAnswer(ctx, ev, node, {
    srcIp: q.client.podIP,
    dstIp: denied.target.pod.podIP ?? "",
    protocol: "udp",
    dstPort: denied.target.port,
    // The query goes to the kube-dns ClusterIP, DNATed to a CoreDNS pod: routed to another node,
    // bridged by br_netfilter to one on the client's own bridge (netpol-trace-options.ts).
    bridged: q.client.hostNetwork !== true && denied.target.pod.nodeName === q.client.nodeName,
    hook: "FORWARD",
  });
  if (!("decision" in a))
    return undecided(
      "dns",
      `${proof.message}, but the node's proof is missing: ${a.what}`,
      { missing: a.what, howToGet: a.how },
      findings,
    );
  if (a.decision === "denied")
    return {
      step: checkStep("dns", "broken", `${proof.message}; ${describeNodeVerdict(a)}`, {
        findings: [proof.code],
      }),
      findings,
      proof,
    };
  if (a.decision === "undecided")
    return undecided(
      "dns",
      `${proof.message}, but ${describeNodeVerdict(a)}`,
      {
        missing: "what the node's NetworkPolicy rules do with the query",
        howToGet: "read the rules by hand",
      },
      findings,
    );
  return {
    step: checkStep("dns", "at-risk", `${proof.message}; but ${describeNodeVerdict(a)}`, {
      findings: [proof.code],
    }),
    findings,
    risk: `${proof.code} (not enforced on ${node})`,
  };
}
