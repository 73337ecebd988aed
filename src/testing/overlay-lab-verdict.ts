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
import type { Packet, TracePath } from "../model/trace.ts";
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

function pathEvidence(node: string, p: TracePath): Evidence[] {
  return p.steps.map((s) => ({ file: `nodes/${node}/iptables-save.txt`, line: s.line, text: s.rule }));
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
        ...(q.inInterface === undefined ? {} : { inInterface: q.inInterface }),
        ...(q.outInterface === undefined ? {} : { outInterface: q.outInterface }),
      },
      { bridged: q.inInterface !== undefined && q.inInterface === q.outInterface },
    );
    const kinds = new Set(r.paths.map((p) => p.disposition));
    const p = r.paths[0]!;
    const last = p.steps[p.steps.length - 1];
    const action =
      last === undefined ? "no rule" : `${last.table}/${last.chain}: ${last.action} (line ${last.line})`;
    if (kinds.size !== 1)
      return { verdict: "unknown", action: `paths disagree: ${[...kinds].join(", ")}`, evidence: [] };
    switch (p.disposition) {
      case "forward":
      case "local":
        return { verdict: "accept", action, evidence: pathEvidence(q.node, p) };
      case "drop":
        return { verdict: "drop", action, evidence: pathEvidence(q.node, p) };
      case "reject":
        return {
          verdict: "reject",
          action,
          ...(p.clientError === undefined ? {} : { clientError: p.clientError }),
          evidence: pathEvidence(q.node, p),
        };
      case "unknown":
        return { verdict: "unknown", action: p.reason ?? action, evidence: pathEvidence(q.node, p) };
      default: {
        const never: never = p.disposition;
        throw new TypeError(`Unknown disposition ${String(never)}`);
      }
    }
  };
}

/** The destination after the client node's NAT rules (`-j DNAT` of a ClusterIP). */
function natDestination(b: HostBundle, node: string, packet: Packet): Packet {
  const rs = b.rulesets.get(node);
  if (rs === undefined) return packet;
  const r = tracePacket(rs, { packet, from: "pod", localIps: localIps(b, node), inInterface: "cni0" });
  const dest = r.paths[0]?.destination;
  if (r.paths.length !== 1 || dest === undefined) return packet;
  const [ip, port] = dest.split(":");
  return { ...packet, dstIp: ip!, ...(port === undefined ? {} : { dstPort: Number(port) }) };
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
