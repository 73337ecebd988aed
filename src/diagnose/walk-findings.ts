/** Findings and short texts of the `--from/--to` walk (kept apart so question-steps.ts stays readable). */

import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import type { Pod } from "../model/cluster.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import type { TraceResult } from "../model/trace.ts";

/** Evidence pointing at a Service object in cluster/services.json. */
export function svcEvidence(
  sp: { source?: { file: string; line?: number } } | undefined,
  text: string,
): Evidence {
  const file = sp?.source?.file ?? "cluster/services.json";
  return { file, ...(sp?.source?.line === undefined ? {} : { line: sp.source.line }), text };
}

/** `rules-duplicated (179000 duplicate rules)` and the like, for the one-line step detail. */
export function healthShort(f: Finding): string {
  const id = /\[([\w-]+)\]/.exec(f.message)?.[1];
  const count = /has (\d+ (?:duplicate )?rules)/.exec(f.message)?.[1];
  return `${f.code}${id !== undefined ? ` (${id})` : count !== undefined ? ` (${count})` : ""}`;
}

/** `trace-unknown`: paths the tracer could not decide (unknown modules, state it cannot see). */
export function unknownPaths(trace: TraceResult | undefined, file: string, node: string): Finding[] {
  const unknown = trace?.paths.filter((p) => p.disposition === "unknown") ?? [];
  if (unknown.length === 0) return [];
  const share = Math.round(unknown.reduce((n, p) => n + p.probability, 0) * 1000) / 10;
  return [
    {
      code: "trace-unknown",
      severity: "warning",
      node,
      message: `The trace on ${node} cannot decide ${share}% of the packet's paths: ${unknown[0]!.reason ?? "no reason given"}`,
      evidence: unknown.slice(0, 3).flatMap((p) => {
        const last = p.steps.at(-1);
        return last === undefined ? [] : [{ file, line: last.line, text: last.rule }];
      }),
      fix: "Check the listed rules by hand, or run `netdoctor trace` on the node's dump with the missing facts (interfaces, marks)",
    },
  ];
}

/** A dotted IPv4 literal: no DNS lookup happens for it. */
export const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Why the client cannot look up a Service name at all, if it cannot: its DNS policy, or CoreDNS down. */
export function dnsServerProblem(
  client: Pod,
  clientKey: string,
  dnsSp: ExpectedServicePort | undefined,
): Finding | undefined {
  const file = client.source?.file ?? "cluster/pods.json";
  if (client.hostNetwork && client.dnsPolicy !== "ClusterFirstWithHostNet" && client.dnsPolicy !== "None") {
    return {
      code: "dns-no-service",
      severity: "error",
      pod: clientKey,
      message: `Pod ${clientKey} uses hostNetwork with dnsPolicy ${client.dnsPolicy ?? "ClusterFirst"}, so it resolves names with the node's /etc/resolv.conf, where Service names do not exist`,
      evidence: [
        {
          file,
          ...(client.source?.line === undefined ? {} : { line: client.source.line }),
          text: `pod ${clientKey} hostNetwork: true, dnsPolicy: ${client.dnsPolicy ?? "ClusterFirst"}`,
        },
      ],
      fix: "Set dnsPolicy: ClusterFirstWithHostNet on the pod (or connect to the ClusterIP)",
      references: [
        "https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy",
      ],
    };
  }
  if (dnsSp !== undefined && dnsSp.clusterEndpoints.length === 0) {
    return {
      code: "endpoints-none",
      severity: "error",
      service: dnsSp.service,
      pod: clientKey,
      message: `The cluster DNS Service ${dnsSp.service} has no ready endpoints: no name lookup from ${clientKey} can succeed`,
      evidence: [
        svcEvidence(dnsSp, `service ${dnsSp.svcPortName} ${dnsSp.clusterIP}:${dnsSp.port}/${dnsSp.protocol}`),
      ],
      fix: "Check the CoreDNS pods in kube-system (kubectl -n kube-system get pods -l k8s-app=kube-dns) and their logs",
      references: ["iptables-known-bugs KB-13"],
    };
  }
  return undefined;
}
