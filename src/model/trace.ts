/**
 * The typed result of tracing one packet (after batfish's Flow / Trace / Hop / Step): the flow as
 * sent, and one {@linkcode Trace} per way the kernel may take it, each with its probability, the
 * hops it crosses (one per node), every step with its evidence, and exactly one disposition.
 * Random branches (kube-proxy's endpoint choice) split a flow into several traces whose
 * probabilities sum to 1; {@linkcode traceResult} checks that on construction.
 */
import { DISPOSITION_KINDS, type Disposition } from "./disposition.ts";
import type { Flow, Headers } from "./flow.ts";
import type { Step } from "./trace-step.ts";

export type { Disposition, DispositionKind } from "./disposition.ts";
export { DISPOSITION_KINDS, isDelivered } from "./disposition.ts";
export type { Address, Flow, Headers, Ingress, Packet, Protocol } from "./flow.ts";
export type {
  ConntrackStep,
  DeliverStep,
  EvidenceRef,
  FilterAction,
  FilterStep,
  MarkOp,
  MissingEvidence,
  NatAction,
  NeighborStep,
  OverlayStep,
  RoutingStep,
  RuleBackend,
  RuleStep,
  Step,
  StepAction,
  TransformStep,
} from "./trace-step.ts";

/** The steps on one node (batfish `Hop`): one hop today, several once routing/overlay land. */
export interface Hop {
  /** The node's name; absent when the trace was asked of a dump without a node name. */
  readonly node?: string;
  readonly steps: readonly Step[];
  /** The packet mark (hex) when the packet leaves this hop, when not 0. */
  readonly mark?: string;
  /**
   * `reply` for the hops of a connection's answer, shown after the request's hops when the answer
   * is what fails (multi-hop traces); absent for the packet as sent.
   */
  readonly direction?: "reply";
}

/** One way the kernel may take the packet. */
export interface Trace {
  /** The probability of this path, in (0, 1]; the traces of a flow sum to 1. */
  readonly probability: number;
  readonly disposition: Disposition;
  /** The packet's headers at the end of the path (after every rewrite). */
  readonly headers: Headers;
  readonly hops: readonly Hop[];
}

/** Every way the packet of `flow` may go. Build with {@linkcode traceResult}. */
export interface TraceResult {
  readonly flow: Flow;
  readonly traces: readonly Trace[];
}

/** How far the probabilities of a flow's traces may stray from 1 (float rounding of kube-proxy's 1/n cascade). */
export const PROBABILITY_TOLERANCE = 1e-9;

/**
 * Builds a {@linkcode TraceResult}, checking its invariants: at least one trace, each with a
 * probability in (0, 1] and at least one hop, probabilities summing to 1, and every path ending in
 * exactly one disposition: a known kind, which agrees with the path's last step when that step
 * ends a path (a DROP or REJECT says dropped or rejected, an undecided rule or route says
 * undecided). {@linkcode checkTraceSteps} checks the steps before the last.
 *
 * @example
 * ```ts
 * traceResult(flow, [{ probability: 1, disposition: { kind: "delivered-locally" }, headers, hops: [{ steps: [] }] }]);
 * ```
 * @throws {RangeError} When a probability is out of range or the probabilities do not sum to 1.
 * @throws {TypeError} When a trace has no hop, an unknown disposition, or a step that ends the path before its end.
 */
export function traceResult(flow: Flow, traces: readonly Trace[]): TraceResult {
  if (traces.length === 0) throw new TypeError("Cannot build a trace result: no trace");
  let sum = 0;
  for (let i = 0; i < traces.length; i++) {
    const t = traces[i]!;
    const p = t.probability;
    if (!(p > 0 && p <= 1 + PROBABILITY_TOLERANCE)) {
      throw new RangeError(`Cannot build a trace result: trace ${i + 1} has probability ${p}`);
    }
    sum += p;
    checkEnding(t, i);
  }
  if (Math.abs(sum - 1) > PROBABILITY_TOLERANCE) {
    throw new RangeError(`Cannot build a trace result: the probabilities sum to ${sum}, not 1`);
  }
  return { flow, traces };
}

/** The disposition kind a step forces when it is the last one, or undefined for a step that goes on. */
export function endingOf(step: Step): Disposition["kind"] | undefined {
  switch (step.kind) {
    case "filter":
      switch (step.action.kind) {
        case "drop":
          return "dropped";
        case "reject":
          return "rejected";
        case "cannot-decide":
          return "undecided";
        case "policy":
          return step.action.policy === "DROP" ? "dropped" : undefined;
        default:
          return undefined;
      }
    case "routing":
      return step.decision === "undecided"
        ? "undecided"
        : step.decision === "no-route"
          ? "no-route"
          : step.decision === "drop"
            ? "dropped"
            : undefined;
    case "neighbor":
      return step.state === "no-answer"
        ? "neighbor-unreachable"
        : step.state === "undecided"
          ? "undecided"
          : undefined;
    case "overlay":
      return step.dropped === undefined ? undefined : "dropped";
    case "transform":
    case "deliver":
    case "conntrack":
      return undefined;
    default: {
      const never: never = step;
      throw new TypeError(`Cannot build a trace result: unknown step ${JSON.stringify(never)}`);
    }
  }
}

function checkEnding(t: Trace, i: number): void {
  const kind = t.disposition?.kind;
  if (!DISPOSITION_KINDS.includes(kind)) {
    throw new TypeError(
      `Cannot build a trace result: trace ${i + 1} has disposition ${JSON.stringify(kind)}`,
    );
  }
  const hops = t.hops;
  if (hops.length === 0) throw new TypeError(`Cannot build a trace result: trace ${i + 1} has no hop`);
  const steps = hops[hops.length - 1]!.steps;
  const last = steps[steps.length - 1];
  const ending = last === undefined ? undefined : endingOf(last);
  if (ending !== undefined && ending !== kind) {
    throw new TypeError(
      `Cannot build a trace result: trace ${i + 1} ends ${ending} but its disposition is ${kind}`,
    );
  }
  if ((kind === "dropped" || kind === "rejected") && ending !== kind) {
    throw new TypeError(
      `Cannot build a trace result: trace ${i + 1} is ${kind} but its last step does not say so`,
    );
  }
}

/**
 * Checks that no step before the last one of a trace ends it (a DROP, REJECT, undecided rule or
 * route, or a neighbour that does not answer, followed by more steps). Linear in the steps, so
 * {@linkcode traceResult} checks only the last step; producers' tests run this on every trace.
 *
 * @throws {TypeError} When a step that ends the path is followed by another step.
 */
export function checkTraceSteps(t: Trace): void {
  let ended: Step | undefined;
  for (const hop of t.hops) {
    for (const step of hop.steps) {
      if (ended !== undefined) {
        throw new TypeError(
          `Cannot build a trace result: the trace goes on after a step that ends it (${endingOf(ended)})`,
        );
      }
      if (endingOf(step) !== undefined) ended = step;
    }
  }
}
