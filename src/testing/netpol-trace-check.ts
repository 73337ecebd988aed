/**
 * Test support for the kube-router kernel suite: traces one connection with netdoctor's packet
 * tracer (the node's dump plus its ipsets) and says how it differs from the kernel's outcome and the
 * node answer's policy names, or undefined when it agrees.
 */
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { ruleStepsOf } from "../trace/rule-steps.ts";
import { tracePacket } from "../trace/trace-packet.ts";

/** kube-router's allow rule comment: "... selected by policy name NAME namespace NS". */
const ALLOW_COMMENT = /selected by policy name:? (\S+) namespace (\S+)/;

export interface TracerCheck {
  readonly client: string;
  readonly server: string;
  readonly protocol: "TCP" | "UDP" | "SCTP";
  readonly port: number;
  readonly sets: IpsetSave;
  /** What the kernel did: `allowed`, `denied`, or `?outcome`. */
  readonly kernel: string;
  /** The policies the node answer (kubeRouterVerdict) names as allowing. */
  readonly nodeAllowedBy: readonly string[];
}

/** Policy names of the KUBE-NWPLCY-* MARK rules a trace took. */
export function tracedPolicies(r: ReturnType<typeof tracePacket>): string[] {
  const names = new Set<string>();
  for (const t of r.traces)
    for (const s of ruleStepsOf(t)) {
      if (!s.chain.startsWith("KUBE-NWPLCY-") || s.chain === "KUBE-NWPLCY-DEFAULT") continue;
      if (s.kind !== "filter" || s.action.kind !== "mark") continue;
      const m = ALLOW_COMMENT.exec(s.rule);
      if (m !== null) names.add(m[1]!);
    }
  return [...names].sort();
}

/** How the tracer's answer differs from the kernel's, or undefined when it agrees. */
export function tracerDisagreement(dump: Ruleset, c: TracerCheck): string | undefined {
  const r = tracePacket(
    dump,
    {
      packet: {
        protocol: c.protocol === "UDP" ? "udp" : c.protocol === "SCTP" ? "sctp" : "tcp",
        srcIp: c.client,
        dstIp: c.server,
        dstPort: c.port,
      },
      from: "pod",
      localIps: ["198.18.0.1"],
    },
    { ipsets: c.sets, bridged: false, file: "iptables-save.txt" },
  );
  const kinds = [...new Set(r.traces.map((t) => t.disposition.kind))];
  const want = c.kernel === "allowed" ? "forwarded" : c.kernel === "denied" ? "rejected" : c.kernel;
  if (kinds.length !== 1 || kinds[0] !== want) {
    const why = r.traces.map((t) =>
      t.disposition.kind === "undecided" ? t.disposition.reason : t.disposition.kind,
    );
    return `tracer ${why.join(" | ")}, kernel ${c.kernel}`;
  }
  const named = tracedPolicies(r);
  const node = [...new Set(c.nodeAllowedBy)].sort();
  if (JSON.stringify(named) !== JSON.stringify(node))
    return `tracer names policies ${named.join(",")}, node answer ${node.join(",")}`;
  return undefined;
}
