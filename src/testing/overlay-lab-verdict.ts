/**
 * netdoctor's answer for one lab connection, from the bundle alone: an existing conntrack entry or
 * the client node's NAT rules (the iptables tracer) decide the destination; src/hostnet's path
 * evaluator follows routing, neighbours and the overlay across nodes, asking the iptables tracer at
 * every node's FORWARD / INPUT / OUTPUT. This is the composition the multi-hop `trace` will wire.
 */
import { evaluateConnection } from "../hostnet/connection-eval.ts";
import { conntrackRewrite } from "../hostnet/conntrack-rewrite.ts";
import type { FilterQuery, FilterVerdict } from "../hostnet/path-types.ts";
import type { Evidence } from "../model/finding.ts";
import type { Packet, Trace } from "../model/trace.ts";
import { exactIp } from "../trace/address-text.ts";
import { ruleStepsOf } from "../trace/rule-steps.ts";
import { tracePacket } from "../trace/trace-packet.ts";
import type { HostBundle } from "./overlay-lab-read.ts";

export interface LabQuestion {
  /** Client pod name. */
  readonly from: string;
  readonly protocol: "tcp" | "udp";
  readonly dstIp: string;
  readonly dstPort: number;
  readonly srcPort?: number;
  readonly payload?: number;
}

export interface LabAnswer {
  /** `answer POD`, `error ERRNO`, `timeout` or `unknown` (comparable with labOutcomeKey). */
  readonly key: string;
  readonly reason?: string;
  readonly connection: ReturnType<typeof evaluateConnection>;
  /** How the destination was decided before routing: `conntrack`, `nat` or `none`. */
  readonly rewrite: "conntrack" | "nat" | "none";
}

function localIps(b: HostBundle, node: string): string[] {
  return (b.hosts.get(node)?.addr?.interfaces ?? []).flatMap((i) =>
    i.addresses.filter((a) => a.family === "inet").map((a) => a.local),
  );
}

function pathEvidence(node: string, t: Trace): Evidence[] {
  return ruleStepsOf(t).map((s) => ({
    file: `nodes/${node}/iptables-save.txt`,
    line: s.evidence.line,
    text: s.rule,
  }));
}

function lastAction(t: Trace): string {
  const steps = ruleStepsOf(t);
  const last = steps[steps.length - 1];
  return last === undefined
    ? "no rule"
    : `${last.table}/${last.chain}: ${last.action.kind} (line ${last.evidence.line})`;
}

/** The iptables side of the evaluator: one trace of the node's ruleset per question. */
export function iptablesFilter(b: HostBundle): (q: FilterQuery) => FilterVerdict {
  return (q) => {
    const rs = b.rulesets.get(q.node);
    if (rs === undefined)
      return { verdict: "unknown", action: `no iptables-save.txt for ${q.node}`, evidence: [] };
    const r = tracePacket(
      rs,
      {
        packet: q.packet,
        from: q.hook === "output" ? "host" : "pod",
        localIps: localIps(b, q.node),
        node: q.node,
        ...(q.inInterface === undefined ? {} : { inInterface: q.inInterface }),
        ...(q.outInterface === undefined ? {} : { outInterface: q.outInterface }),
      },
      { bridged: q.inInterface !== undefined && q.inInterface === q.outInterface },
    );
    const kinds = new Set(r.traces.map((t) => t.disposition.kind));
    const t = r.traces[0]!;
    const action = lastAction(t);
    if (kinds.size !== 1)
      return { verdict: "unknown", action: `paths disagree: ${[...kinds].join(", ")}`, evidence: [] };
    const evidence = pathEvidence(q.node, t);
    const d = t.disposition;
    switch (d.kind) {
      case "forwarded":
      case "delivered-locally":
      case "delivered":
      case "exits-cluster":
        return { verdict: "accept", action, evidence };
      case "dropped":
        return { verdict: "drop", action, evidence };
      case "rejected":
        return {
          verdict: "reject",
          action,
          ...(d.clientError === undefined ? {} : { clientError: d.clientError }),
          evidence,
        };
      case "undecided":
        return { verdict: "unknown", action: d.reason, evidence };
      case "no-route":
      case "neighbor-unreachable":
        return { verdict: "unknown", action: `${d.kind} in the iptables trace`, evidence };
      default: {
        const never: never = d;
        throw new TypeError(`Unknown disposition ${JSON.stringify(never)}`);
      }
    }
  };
}

/** The destination after the client node's NAT rules (`-j DNAT` of a ClusterIP). */
function natDestination(b: HostBundle, node: string, packet: Packet): Packet {
  const rs = b.rulesets.get(node);
  if (rs === undefined) return packet;
  const r = tracePacket(rs, { packet, from: "pod", localIps: localIps(b, node), inInterface: "cni0" });
  const dst = r.traces.length === 1 ? r.traces[0]!.headers.dst : undefined;
  const ip = dst === undefined ? undefined : exactIp(dst);
  if (dst === undefined || ip === undefined || dst.kind !== "exact") return packet;
  return { ...packet, dstIp: ip, ...(dst.port === undefined ? {} : { dstPort: dst.port }) };
}

/**
 * Answers a lab question from the bundle.
 *
 * @example
 * ```ts
 * labAnswer(await readHostBundle(dir), { from: "a1", protocol: "tcp", dstIp: "198.18.2.10", dstPort: 8080 }).key;
 * // "answer b1"
 * ```
 */
export function labAnswer(b: HostBundle, q: LabQuestion): LabAnswer {
  const client = b.pods.find((p) => p.pod.endsWith(`/${q.from}`));
  if (client === undefined) throw new RangeError(`Cannot find pod "${q.from}" in the bundle`);
  const packet: Packet = {
    protocol: q.protocol,
    srcIp: client.ip,
    dstIp: q.dstIp,
    dstPort: q.dstPort,
    ...(q.srcPort === undefined ? {} : { srcPort: q.srcPort }),
  };
  const ct = b.hosts.get(client.node)?.conntrack;
  const hit = ct === undefined || q.srcPort === undefined ? undefined : conntrackRewrite(packet, ct);
  const routed = hit?.packet ?? natDestination(b, client.node, packet);
  const rewrite = hit !== undefined ? "conntrack" : routed.dstIp !== packet.dstIp ? "nat" : "none";
  const headers = q.protocol === "tcp" ? 52 : 28;
  const connection = evaluateConnection(routed, {
    hosts: b.hosts,
    pods: b.pods,
    filter: iptablesFilter(b),
    packetBytes: Math.min(1500, (q.payload ?? 16) + headers),
    origin: { node: client.node, ingress: "pod" },
    ...(routed.dstIp === packet.dstIp ? {} : { dnatFrom: { ip: packet.dstIp, port: packet.dstPort! } }),
  });
  let key: string;
  switch (connection.outcome) {
    case "delivered": {
      const owner = b.pods.find((p) => p.ip === routed.dstIp);
      key = `answer ${owner?.pod.split("/")[1] ?? routed.dstIp}`;
      break;
    }
    case "error":
      key = `error ${connection.clientError ?? "?"}`;
      break;
    default:
      key = connection.outcome;
  }
  return {
    key,
    ...(connection.reason === undefined ? {} : { reason: connection.reason }),
    connection,
    rewrite,
  };
}
