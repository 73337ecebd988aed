/**
 * A connection across nodes as the typed trace (model/trace.ts): one hop per node the request
 * crosses (the client node: NAT or the conntrack entry, routing, FORWARD, neighbour, VXLAN
 * encapsulation; the endpoint node: decapsulation, routing, FORWARD, delivery), then, when the
 * answer is what fails, the reply's hops (`direction: "reply"`). Each path ends in one disposition:
 * delivered, no-route, neighbor-unreachable, dropped (by a node's rule, route or overlay, with that
 * node's file:line), rejected, or undecided with what is missing.
 */
import type { ConnectionResult, Hop as HostHop, PathResult } from "../hostnet/path-types.ts";
import type {
  Disposition,
  Flow,
  Hop,
  OverlayStep,
  Packet,
  RoutingStep,
  Step,
  Trace,
  TraceResult,
} from "../model/trace.ts";
import { endingOf, traceResult } from "../model/trace.ts";
import type { ConnectionAnswer, ConnectionBranch } from "./connection-answer.ts";
import type { HostPathInput } from "./host-path-input.ts";
import { evidenceRef, hostStepToSteps, needsOf, packetHeaders } from "./host-steps.ts";

interface Ctx {
  readonly answer: ConnectionAnswer;
  readonly nodeOfIp: (ip: string) => string | undefined;
}

function hopOf(h: HostHop, path: PathResult, ctx: Ctx, prefix: readonly Step[], reply: boolean): Hop {
  const steps: Step[] = [...prefix];
  for (const s of h.steps) {
    steps.push(
      ...hostStepToSteps(s, {
        traces: ctx.answer.filter.traces,
        packet: path.packet,
        ...(h.outInterface === undefined ? {} : { outInterface: h.outInterface }),
        nodeOfIp: ctx.nodeOfIp,
        skipNat: prefix.length > 0,
      }),
    );
  }
  return { node: h.node, steps, ...(reply ? { direction: "reply" as const } : {}) };
}

/** The steps the client node's own rules took before routing: its NAT, or the conntrack entry. */
function clientPrefix(b: ConnectionBranch, sent: Flow): Step[] {
  if (b.conntrack !== undefined) {
    return [
      {
        kind: "conntrack",
        entry: b.conntrack.evidence.text,
        before: packetHeaders(sent),
        after: packetHeaders(b.routed),
        ...evidenceRef([b.conntrack.evidence]),
      },
    ];
  }
  if (b.clientTrace === undefined || b.rewrite === "none") return [];
  // After IPVS the node sends the packet itself: its INPUT, IPVS, OUTPUT and POSTROUTING steps are
  // the client node's whole part (no FORWARD is asked of it).
  if (b.rewrite === "ipvs") return b.clientTrace.hops.flatMap((h) => h.steps);
  return b.clientTrace.hops
    .flatMap((h) => h.steps)
    .filter((s) => s.kind === "transform" || (s.kind === "filter" && s.table === "nat"));
}

/** Makes the last step say how the path ended when it does not already (dropped needs a `by`). */
function dropStep(hop: Hop, reason: string, dst: Packet): FilterStepOrRoute {
  const last = hop.steps[hop.steps.length - 1];
  if (last !== undefined && endingOf(last) === "dropped") return { hop, by: last as FilterStepOrRoute["by"] };
  if (last?.kind === "overlay") {
    const by: OverlayStep = { ...last, dropped: reason };
    return { hop: { ...hop, steps: [...hop.steps.slice(0, -1), by] }, by };
  }
  const by: RoutingStep = {
    kind: "routing",
    decision: "drop",
    dst: packetHeaders(dst).dst,
    basis: "none",
    reason,
  };
  return { hop: { ...hop, steps: [...hop.steps, by] }, by };
}

interface FilterStepOrRoute {
  readonly hop: Hop;
  readonly by: Extract<Disposition, { kind: "dropped" }>["by"];
}

/** The disposition of a path that stopped on its last hop (and that hop, completed if needed). */
function ending(path: PathResult, hops: Hop[]): Disposition {
  const h = path.hops[path.hops.length - 1];
  const hop = hops[hops.length - 1]!;
  const last = hop.steps[hop.steps.length - 1];
  const reason = path.reason ?? h?.reason ?? path.outcome;
  switch (h?.disposition) {
    case "delivered": {
      const d = [...hop.steps].reverse().find((s) => s.kind === "deliver");
      return {
        kind: "delivered",
        ...(d?.kind === "deliver" && d.pod !== undefined ? { pod: d.pod } : {}),
        ...(d?.kind === "deliver" && d.device !== undefined ? { device: d.device } : {}),
      };
    }
    case "delivered-locally":
      return { kind: "delivered-locally" };
    case "exits-cluster":
      return {
        kind: "exits-cluster",
        ...(h.outInterface === undefined ? {} : { outInterface: h.outInterface }),
      };
    case "no-route":
      return {
        kind: "no-route",
        dst: packetHeaders(path.packet).dst,
        ...(path.clientError === undefined ? {} : { clientError: path.clientError }),
      };
    case "neighbor-unreachable": {
      const n = last?.kind === "neighbor" ? last : undefined;
      return {
        kind: "neighbor-unreachable",
        ip: n?.ip ?? path.packet.dstIp,
        ...(n?.device === undefined ? {} : { device: n.device }),
        ...(path.clientError === "EHOSTUNREACH" ? { clientError: "EHOSTUNREACH" as const } : {}),
      };
    }
    case "dropped": {
      const d = dropStep(hop, reason, path.packet);
      hops[hops.length - 1] = d.hop;
      return {
        kind: "dropped",
        by: d.by,
        ...(path.clientError === undefined ? {} : { clientError: path.clientError }),
      };
    }
    case "rejected":
      if (last?.kind === "filter" && last.action.kind === "reject")
        return {
          kind: "rejected",
          by: last,
          rejectWith: last.action.rejectWith,
          ...(path.clientError === undefined ? {} : { clientError: path.clientError }),
        };
      return { kind: "undecided", reason, needs: "manual-check" };
    case "forwarded-overlay":
    case "forwarded-underlay":
      if (path.outcome === "error" || path.outcome === "timeout") {
        // Sent on and never arriving: a forwarding loop whose TTL runs out (ICMP time exceeded).
        const d = dropStep(hop, reason, path.packet);
        hops[hops.length - 1] = d.hop;
        return {
          kind: "dropped",
          by: d.by,
          ...(path.clientError === undefined ? {} : { clientError: path.clientError }),
        };
      }
      return { kind: "undecided", reason, needs: needsOf(path.missing ?? []) };
    default: {
      // A node's rule the tracer could not decide says itself what would decide it (an ipset...).
      if (last?.kind === "filter" && last.action.kind === "cannot-decide")
        return { kind: "undecided", reason, needs: last.action.needs, at: last };
      const rules = /no (nodes\/[^ ]+\/iptables-save\.txt)/.exec(reason)?.[1];
      return {
        kind: "undecided",
        reason,
        needs: needsOf(path.missing ?? (rules === undefined ? [] : [rules])),
      };
    }
  }
}

function connectionTrace(b: ConnectionBranch, c: ConnectionResult, ctx: Ctx): Trace {
  const q = ctx.answer.question;
  const prefix = clientPrefix(b, { ...q.packet, ingress: q.ingress });
  const hops: Hop[] = c.request.hops.map((h, i) => hopOf(h, c.request, ctx, i === 0 ? prefix : [], false));
  if (hops.length === 0) hops.push({ node: ctx.answer.question.node, steps: prefix });
  const headers = packetHeaders(b.routed);
  if (c.request.outcome !== "delivered" || c.reply === undefined) {
    return { probability: b.probability, disposition: ending(c.request, hops), headers, hops };
  }
  if (c.reply.outcome !== "delivered") {
    const reply = c.reply.hops.map((h) => hopOf(h, c.reply!, ctx, [], true));
    const all = [...hops, ...reply];
    return { probability: b.probability, disposition: ending(c.reply, all), headers, hops: all };
  }
  if (c.outcome === "delivered")
    return { probability: b.probability, disposition: ending(c.request, hops), headers, hops };
  // The answer arrives but the connection fails anyway (an un-NATed bridged reply), or cannot tell.
  const reply = c.reply.hops.map((h) => hopOf(h, c.reply!, ctx, [], true));
  const all = [...hops, ...reply];
  const why = c.reason ?? c.outcome;
  if (c.outcome === "unknown")
    return {
      probability: b.probability,
      disposition: { kind: "undecided", reason: why, needs: "kernel-settings" },
      headers,
      hops: all,
    };
  const by: RoutingStep = {
    kind: "routing",
    decision: "drop",
    dst: packetHeaders(c.reply.packet).dst,
    basis: "none",
    reason: why,
    ...evidenceRef(c.evidence ?? []),
  };
  const lastHop = all[all.length - 1]!;
  all[all.length - 1] = { ...lastHop, steps: [...lastHop.steps, by] };
  return { probability: b.probability, disposition: { kind: "dropped", by }, headers, hops: all };
}

function branchTrace(b: ConnectionBranch, ctx: Ctx): Trace {
  if (b.connection !== undefined) return connectionTrace(b, b.connection, ctx);
  // The client node's own rules ended the path: its iptables trace is the whole answer.
  const t = b.clientTrace!;
  return { ...t, probability: b.probability };
}

/**
 * The multi-hop trace of an answered connection.
 *
 * @example
 * ```ts
 * const r = multiHopTrace(answerConnection(input, question), input);
 * r.traces[0].hops.map((h) => h.node); // ["node-a", "node-b"]
 * ```
 */
export function multiHopTrace(answer: ConnectionAnswer, input: HostPathInput): TraceResult {
  const publicIps = new Map<string, string>();
  for (const n of input.nodes) if (n.publicIp !== undefined) publicIps.set(n.publicIp, n.name);
  const ctx: Ctx = { answer, nodeOfIp: (ip) => publicIps.get(ip) };
  const q = answer.question;
  const flow: Flow = { ...q.packet, ingress: q.ingress, node: q.node };
  return traceResult(
    flow,
    answer.branches.map((b) => branchTrace(b, ctx)),
  );
}
