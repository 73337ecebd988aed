/**
 * The question's trace on its client node, for the diagnose builder: the node's addresses as local
 * IPs, the NetworkPolicy extras (ipsets, bridge crossing), then the verdict refinement. A trace that
 * throws becomes `traceError`, so the client-node link can say why the walk stopped.
 */
import type { ClusterState } from "../model/cluster.ts";
import type { Ruleset } from "../model/ruleset.ts";
import type { TraceResult } from "../model/trace.ts";
import { nodeAddresses } from "../net/node-addresses.ts";
import type { NodeHostEvidence } from "../trace/trace-host.ts";
import type { HostFacts } from "./host-facts.ts";
import { traceClientNode } from "./host-node.ts";
import { type TraceAt, traceExtras } from "./netpol-trace-options.ts";
import type { Question } from "./question.ts";
import { refineTrace } from "./trace-verdict.ts";

/** What {@linkcode questionTrace} returns: the trace, or why it failed, and the host facts. */
export interface QuestionTrace {
  readonly trace?: TraceResult;
  readonly traceError?: string;
  readonly host?: HostFacts | undefined;
}

/**
 * Traces the question's packet on the client node from its rules (`ruleset` and/or the whole-host
 * `host` evidence); empty when the question has no packet to trace.
 */
export function questionTrace(
  input: { readonly ruleset?: Ruleset | undefined; readonly host?: NodeHostEvidence | undefined },
  at: TraceAt & { readonly question: Question | undefined; readonly cluster: ClusterState },
): QuestionTrace {
  const { node, file, question: q, cluster } = at;
  if (q?.packet === undefined) return {};
  const nodeObj = cluster.nodes.find((n) => n.metadata.name === node);
  const localIps = nodeObj === undefined ? [] : nodeAddresses(nodeObj).map((a) => a.address);
  try {
    const { trace, host } = traceClientNode(
      {
        ruleset: input.ruleset,
        host: input.host,
        file,
        node,
        extras: traceExtras(q, cluster, at.ipsets),
      },
      {
        packet: q.packet,
        from: q.client.hostNetwork ? "host" : "pod",
        node,
        ...(localIps.length === 0 ? {} : { localIps }),
      },
    );
    return { trace: refineTrace(trace, { cluster, node }), host };
  } catch (error) {
    return { traceError: error instanceof Error ? error.message : String(error) };
  }
}
