/**
 * The one adapter between the tracer's typed {@linkcode TraceResult} and the walk: what share of the
 * packet's paths reach where they must, which are blocked and by what rule, what the tracer could not
 * decide, and what the client sees. Every fact comes from the model's fields (dispositions, headers,
 * steps with their evidence); nothing reads the trace's words.
 */
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Evidence } from "../model/finding.ts";
import { isDelivered, type Step, type Trace, type TraceResult } from "../model/trace.ts";
import { addressText } from "../trace/address-text.ts";
import { ERRNO_MESSAGES } from "../trace/reject-errno.ts";
import { describeTrace, refineTrace } from "./trace-verdict.ts";

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
  /** Paths that reach an address that is not a target (or where nothing answers ARP for it). */
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

function lastStep(t: Trace): Step | undefined {
  return t.hops[t.hops.length - 1]?.steps.at(-1);
}

/** The dump line of the step that ended the path (a rule or a chain policy), as evidence. */
function lastRule(file: string, t: Trace): Evidence[] {
  const last = lastStep(t);
  if (last === undefined || (last.kind !== "filter" && last.kind !== "transform")) return [];
  // An nft rule's (or a legacy table's) evidence is in its own file (whole-host trace, issue 15).
  return [
    {
      file: last.evidence.file === "" ? file : last.evidence.file,
      line: last.evidence.line,
      text: last.rule,
    },
  ];
}

/** `filter/FORWARD line 34`, `the filter FORWARD policy (line 3)`, or the route that dropped. */
function blockedBy(t: Trace): string {
  const d = t.disposition;
  if (d.kind !== "dropped" && d.kind !== "rejected") return "a rule";
  const by = d.by;
  if (by.kind === "routing") return `routing (${by.reason ?? "a route"})`;
  if (by.kind === "overlay") return `the overlay on ${by.device} (${by.dropped ?? "dropped"})`;
  if (by.backend === "ipvs") return `IPVS ${by.chain} (${by.evidence.file} line ${by.evidence.line})`;
  return by.action.kind === "policy"
    ? `the ${by.table} ${by.chain} policy (line ${by.evidence.line})`
    : `${by.table}/${by.chain} line ${by.evidence.line}`;
}

function clientErrorOf(t: Trace): string | undefined {
  const d = t.disposition;
  return d.kind === "dropped" || d.kind === "rejected" ? d.clientError : undefined;
}

/** Why a path ends undecided (or in a routing outcome the walk cannot prove yet: no route). */
function unknownReason(t: Trace): string {
  const d = t.disposition;
  if (d.kind === "undecided") return d.reason;
  if (d.kind === "no-route") return `routing: no route to ${addressText(d.dst)}`;
  return "no reason given";
}

/**
 * Reads a trace against the `targets` (`ip:port`) the packet must reach; without targets (an outside
 * destination) every path that leaves the node counts. The trace is refined with the cluster first
 * (paths to an address of the node's pod CIDR that no pod has end neighbor-unreachable).
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
  const traces = refineTrace(trace, { cluster, node }).traces;
  const share = (ts: readonly Trace[]) => ts.reduce((n, t) => n + t.probability, 0);
  const delivered = traces.filter((t) => isDelivered(t.disposition));
  const good = delivered.filter((t) => targets === undefined || targets.includes(addressText(t.headers.dst)));
  const wrong = traces.filter(
    (t) => (isDelivered(t.disposition) && !good.includes(t)) || t.disposition.kind === "neighbor-unreachable",
  );
  const blocked = traces.filter((t) => t.disposition.kind === "dropped" || t.disposition.kind === "rejected");
  // A path the walk cannot prove reaching nor blocking: undecided, or (from routing evidence) no route.
  const unknown = traces.filter(
    (t) => t.disposition.kind === "undecided" || t.disposition.kind === "no-route",
  );
  const firstBlocked = blocked[0];
  const firstWrong = wrong[0];
  const blockedError = firstBlocked === undefined ? undefined : clientErrorOf(firstBlocked);
  return {
    text: describeTrace(trace, context.expected, cluster, node),
    reaches: share(good),
    ...(firstBlocked === undefined
      ? {}
      : {
          blocked: {
            outcome: firstBlocked.disposition.kind === "dropped" ? "dropped" : "rejected",
            share: pct(share(blocked)),
            by: blockedBy(firstBlocked),
            clientSees: blockedError === undefined ? "no answer (a timeout)" : errnoText(blockedError),
            evidence: blocked.slice(0, 3).flatMap((t) => lastRule(file, t)),
          },
        }),
    ...(firstWrong === undefined
      ? {}
      : {
          wrongTarget: {
            share: pct(share(wrong)),
            destination: addressText(firstWrong.headers.dst),
            // What the walk has always said for this case (musl's wording, as in k3s's images).
            ...(firstWrong.disposition.kind === "neighbor-unreachable"
              ? { clientSees: 'EHOSTUNREACH ("Host is unreachable")' }
              : {}),
          },
        }),
    ...(unknown[0] === undefined
      ? {}
      : {
          unknown: {
            share: pct(share(unknown)),
            reason: unknownReason(unknown[0]),
            evidence: unknown.slice(0, 3).flatMap((t) => lastRule(file, t)),
          },
        }),
    masquerade: delivered.some(
      (t) => t.headers.src.kind !== "exact" || t.headers.src.ip !== trace.flow.srcIp,
    ),
  };
}
