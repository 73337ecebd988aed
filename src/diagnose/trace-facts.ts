/**
 * The one adapter between the tracer's {@linkcode TraceResult} and the walk: what share of the
 * packet's paths reach where they must, which are blocked and by what rule, what the tracer could not
 * decide, and what the client sees. The walk reads these facts, never the trace's prose. (The trace
 * model is being reworked; this file is where that change lands.)
 */
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Evidence } from "../model/finding.ts";
import type { TracePath, TraceResult } from "../model/trace.ts";
import { ipInCidr } from "../net/cidr.ts";
import { ERRNO_MESSAGES } from "../trace/reject-errno.ts";
import { describeTrace } from "./trace-verdict.ts";

export interface TraceFacts {
  /** `trace on NODE: 100% forward to …` for the step's detail. */
  readonly text: string;
  /** Share (0-1) of paths that reach a target (or, for an outside destination, leave the node). */
  readonly reaches: number;
  readonly blocked?: {
    readonly outcome: "dropped" | "rejected";
    readonly share: number;
    /** `filter/FORWARD line 34` or `the filter FORWARD policy (line 3)`. */
    readonly by: string;
    readonly clientSees: string;
    readonly evidence: readonly Evidence[];
  };
  /** Paths that reach an address that is not a target. */
  readonly wrongTarget?: {
    readonly share: number;
    readonly destination: string;
    readonly clientSees?: string;
  };
  readonly unknown?: {
    readonly share: number;
    readonly reason: string;
    readonly evidence: readonly Evidence[];
  };
  /** True when a path leaving the node is masqueraded or SNATed. */
  readonly masquerade: boolean;
}

const pct = (share: number) => Math.round(share * 1000) / 10;

function errnoText(errno: string): string {
  return `${errno} ("${ERRNO_MESSAGES[errno] ?? errno}")`;
}

function lastRule(file: string, path: TracePath): Evidence[] {
  const last = path.steps.at(-1);
  return last === undefined ? [] : [{ file, line: last.line, text: last.rule }];
}

function blockedBy(path: TracePath): string {
  const last = path.steps.at(-1);
  if (last === undefined) return "a rule";
  return last.action.startsWith("policy")
    ? `the ${last.table} ${last.chain} policy (line ${last.line})`
    : `${last.table}/${last.chain} line ${last.line}`;
}

/** What the client sees when it is sent to `ip`, which is not where it should go. */
function wrongTargetSees(ip: string, cluster: ClusterState, node: string): string | undefined {
  if (cluster.pods.some((p) => p.podIP === ip || p.podIPs?.includes(ip))) return undefined;
  const podCIDR = cluster.nodes.find((n) => n.metadata.name === node)?.podCIDR;
  // No pod in the node's own pod CIDR: nothing answers ARP on the bridge.
  return podCIDR !== undefined && ipInCidr(ip, podCIDR) ? 'EHOSTUNREACH ("Host is unreachable")' : undefined;
}

/**
 * Reads a trace against the `targets` (`ip:port`) the packet must reach; without targets (an outside
 * destination) every path that leaves the node counts.
 */
export function traceFacts(
  trace: TraceResult,
  context: {
    readonly targets?: readonly string[];
    readonly expected?: ExpectedServicePort;
    readonly cluster: ClusterState;
    readonly node: string;
    readonly file: string;
  },
): TraceFacts {
  const { targets, cluster, node, file } = context;
  const share = (ps: readonly TracePath[]) => ps.reduce((n, p) => n + p.probability, 0);
  const delivered = trace.paths.filter((p) => p.disposition === "forward" || p.disposition === "local");
  const good = delivered.filter((p) => targets === undefined || targets.includes(p.destination));
  const wrong = delivered.filter((p) => !good.includes(p));
  const blocked = trace.paths.filter((p) => p.disposition === "drop" || p.disposition === "reject");
  const unknown = trace.paths.filter((p) => p.disposition === "unknown");
  const firstBlocked = blocked[0];
  const firstWrong = wrong[0];
  const wrongSees =
    firstWrong === undefined
      ? undefined
      : wrongTargetSees(
          firstWrong.destination.slice(0, firstWrong.destination.lastIndexOf(":")),
          cluster,
          node,
        );
  return {
    text: describeTrace(trace, context.expected, cluster, node),
    reaches: share(good),
    ...(firstBlocked === undefined
      ? {}
      : {
          blocked: {
            outcome: firstBlocked.disposition === "drop" ? "dropped" : "rejected",
            share: pct(share(blocked)),
            by: blockedBy(firstBlocked),
            clientSees:
              firstBlocked.clientError === undefined
                ? "no answer (a timeout)"
                : errnoText(firstBlocked.clientError),
            evidence: blocked.slice(0, 3).flatMap((p) => lastRule(file, p)),
          },
        }),
    ...(firstWrong === undefined
      ? {}
      : {
          wrongTarget: {
            share: pct(share(wrong)),
            destination: firstWrong.destination,
            ...(wrongSees === undefined ? {} : { clientSees: wrongSees }),
          },
        }),
    ...(unknown[0] === undefined
      ? {}
      : {
          unknown: {
            share: pct(share(unknown)),
            reason: unknown[0].reason ?? "no reason given",
            evidence: unknown.slice(0, 3).flatMap((p) => lastRule(file, p)),
          },
        }),
    masquerade: delivered.some((p) => p.masquerade),
  };
}
