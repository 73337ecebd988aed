/** The incident's trace on prod-agent1 for the hand-built report input (sample-report-input.ts). */
import { type FilterAction, type Headers, type Step, type TraceResult, traceResult } from "../model/trace.ts";

/** The rules of the incident's path (their text depends on the hostile-text option). */
export interface IncidentRules {
  readonly svcRule: string;
  readonly svcJump: string;
  readonly dnat: string;
  readonly svc: string;
  readonly sep: string;
  readonly file: string;
}

/** The headers the client sent, and after the DNAT. */
const sent: Headers = {
  protocol: "tcp",
  src: { kind: "exact", ip: "10.42.1.9", port: 40_000 },
  dst: { kind: "exact", ip: "10.43.176.183", port: 8848 },
};
const dnatted: Headers = { ...sent, dst: { kind: "exact", ip: "10.42.1.17", port: 8848 } };

/** prod-agent1 DNATs the ClusterIP to 10.42.1.17, a pod IP of its own pod CIDR nobody has any more. */
export function incidentTrace(r: IncidentRules): TraceResult {
  return traceResult(
    {
      protocol: "tcp",
      srcIp: "10.42.1.9",
      srcPort: 40_000,
      dstIp: "10.43.176.183",
      dstPort: 8848,
      ingress: "pod",
      node: "prod-agent1",
    },
    [
      {
        probability: 1,
        disposition: { kind: "neighbor-unreachable", ip: "10.42.1.17", clientError: "EHOSTUNREACH" },
        headers: dnatted,
        hops: [{ node: "prod-agent1", steps: incidentSteps(r) }],
      },
    ],
  );
}

function incidentSteps(r: IncidentRules): Step[] {
  const { svcRule, svcJump, dnat, file } = r;
  const SVC = r.svc;
  const SEP = r.sep;
  const at = (line: number) => ({ file, line });
  const filter = (table: string, chain: string, line: number, rule: string, action: FilterAction): Step => ({
    kind: "filter",
    backend: "iptables",
    table,
    chain,
    evidence: at(line),
    rule,
    action,
  });
  const traceSteps: Step[] = [
    filter(
      "nat",
      "PREROUTING",
      7,
      `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
      { kind: "jump", target: "KUBE-SERVICES" },
    ),
    filter("nat", "KUBE-SERVICES", 171_902, svcRule, { kind: "jump", target: SVC }),
    filter("nat", SVC, 172_310, svcJump, { kind: "jump", target: SEP }),
    {
      kind: "transform",
      backend: "iptables",
      table: "nat",
      chain: SEP,
      evidence: at(172_389),
      rule: dnat,
      action: { kind: "dnat", to: "10.42.1.17:8848" },
      before: sent,
      after: dnatted,
    },
    { kind: "routing", decision: "forward", dst: dnatted.dst, basis: "node-addresses" },
    filter(
      "filter",
      "FORWARD",
      179_540,
      `-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
      { kind: "jump", target: "KUBE-FORWARD" },
    ),
    filter("filter", "FORWARD", 179_470, ":FORWARD ACCEPT [0:0]", { kind: "policy", policy: "ACCEPT" }),
    filter(
      "nat",
      "POSTROUTING",
      9,
      `-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
      { kind: "jump", target: "KUBE-POSTROUTING" },
    ),
    {
      kind: "neighbor",
      ip: "10.42.1.17",
      state: "no-answer",
      reason:
        "no pod in the cluster has 10.42.1.17, which is in prod-agent1's own pod CIDR 10.42.1.0/24: nothing answers ARP on the bridge",
    },
  ];
  return traceSteps;
}
