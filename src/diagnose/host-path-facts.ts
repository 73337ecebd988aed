/**
 * What diagnose's `route`, `overlay` and `endpoint-node` links read: the question's connection
 * traced across nodes (trace/multi-hop-trace.ts), the client's own conntrack flows to the same
 * destination followed as they are (a stale entry keeps a client on a dead pod), and the
 * cross-node checks of src/hostnet over the whole bundle.
 */
import { checkHostNetwork } from "../hostnet/check-host-network.ts";
import type { Finding } from "../model/finding.ts";
import type { Packet, TraceResult } from "../model/trace.ts";
import { answerConnection } from "../trace/connection-answer.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { multiHopTrace } from "../trace/multi-hop-trace.ts";
import type { Question } from "./question.ts";

/** A flow of the client that a conntrack entry already pins, traced as the entry sends it. */
export interface PinnedFlow {
  readonly srcPort: number;
  readonly trace: TraceResult;
}

/** The host side of a question. */
export interface HostPathFacts {
  readonly input: HostPathInput;
  readonly clientNode: string;
  /** The question's packet across nodes; absent when the question has no packet to follow. */
  readonly trace?: TraceResult;
  /** The client's existing flows to the same destination (at most a few), as their entries send them. */
  readonly pinned: readonly PinnedFlow[];
  /** checkHostNetwork over every node (the links pick those on the path). */
  readonly findings: readonly Finding[];
}

/** How many of the client's pinned flows are followed (each is one more trace). */
const MAX_PINNED = 3;

function pinnedPorts(input: HostPathInput, node: string, p: Packet): number[] {
  const ct = input.hosts.get(node)?.conntrack;
  if (ct === undefined) return [];
  const ports = new Set<number>();
  for (const e of ct.entries) {
    if (ports.size >= MAX_PINNED) break;
    if (e.protocol !== p.protocol || e.original.src !== p.srcIp) continue;
    if (e.original.dst !== p.dstIp || e.original.dport !== p.dstPort || e.original.sport === undefined)
      continue;
    ports.add(e.original.sport);
  }
  return [...ports];
}

/**
 * Traces the question across nodes. Undefined when the client pod has no node.
 *
 * @example
 * ```ts
 * hostPathFacts(input, question)?.trace?.traces[0].hops.map((h) => h.node); // ["node-a", "node-b"]
 * ```
 */
export function hostPathFacts(input: HostPathInput, q: Question): HostPathFacts | undefined {
  const node = q.client.nodeName;
  if (node === undefined) return undefined;
  const findings = checkHostNetwork({
    hosts: input.hosts,
    nodes: input.nodes,
    pods: input.pods,
    cluster: input.cluster,
  });
  const packet = q.packet;
  if (packet === undefined) return { input, clientNode: node, pinned: [], findings };
  const ingress = q.client.hostNetwork ? ("host" as const) : ("pod" as const);
  const trace = multiHopTrace(answerConnection(input, { node, ingress, packet }), input);
  const pinned = pinnedPorts(input, node, packet).map((srcPort) => {
    const p = { ...packet, srcPort };
    return { srcPort, trace: multiHopTrace(answerConnection(input, { node, ingress, packet: p }), input) };
  });
  return { input, clientNode: node, trace, pinned, findings };
}

/**
 * The nodes the question's paths cross (or start on, or are sent to by the endpoints and conntrack)
 * whose rules `input` does not have yet, and whose host files were read.
 */
export function hostPathNodes(input: HostPathInput, q: Question): string[] {
  const node = q.client.nodeName;
  if (node === undefined || q.packet === undefined) return [];
  const want = new Set([node]);
  for (const ip of (q.targets ?? []).map((t) => t.replace(/:\d+$/, ""))) {
    const p = input.pods.find((x) => x.ip === ip);
    if (p !== undefined) want.add(p.node);
  }
  const facts = hostPathFacts(input, q);
  for (const r of [facts?.trace, ...(facts?.pinned ?? []).map((p) => p.trace)])
    for (const t of r?.traces ?? []) for (const h of t.hops) if (h.node !== undefined) want.add(h.node);
  return [...want].filter((n) => !input.rulesets.has(n) && input.hosts.has(n));
}
