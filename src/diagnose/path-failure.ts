/**
 * Where a multi-hop trace path stops, in diagnose's terms: which link (`route` on the client node:
 * its routing, forwarding and FORWARD; `overlay`: neighbour and VXLAN on the client node, and on
 * the receiving node everything up to the decapsulation; `endpoint-node`: the receiving node after
 * decapsulation, down to the pod), on which node, at which step, with which file as evidence.
 */
import { isDelivered, type Step, type Trace } from "../model/trace.ts";

export type PathLinkName = "route" | "overlay" | "endpoint-node";

/** The order of the path links: a failure at one means the later ones were not reached. */
export const PATH_LINKS: readonly PathLinkName[] = ["route", "overlay", "endpoint-node"];

export interface PathFailure {
  readonly link: PathLinkName;
  readonly node: string;
  /** The step that ended the path (absent when it stopped before any step of its hop). */
  readonly step?: Step;
  /** Evidence files of the failing hop's steps (the last one first). */
  readonly files: readonly string[];
  readonly undecided: boolean;
  /** The failure is on the reply's way back. */
  readonly reply: boolean;
}

function decapIndex(steps: readonly Step[]): number {
  return steps.findIndex((s) => s.kind === "overlay" && s.direction === "decapsulate");
}

function stepFile(s: Step): string | undefined {
  return s.kind === "filter" || s.kind === "transform" ? s.evidence.file : s.evidence?.file;
}

/**
 * Classifies the end of a path that is not delivered; undefined for a delivered path.
 *
 * @example
 * ```ts
 * pathFailure(trace, "node-a"); // { link: "overlay", node: "node-b", ... } for a stale VTEP MAC
 * ```
 */
export function pathFailure(t: Trace, clientNode: string): PathFailure | undefined {
  if (isDelivered(t.disposition)) return undefined;
  const i = t.hops.length - 1;
  const hop = t.hops[i]!;
  const node = hop.node ?? clientNode;
  const steps = hop.steps;
  const undecided = t.disposition.kind === "undecided";
  // An undecided hop stopped at the step it could not make: one past its last.
  const at = undecided ? steps.length : steps.length - 1;
  const step = undecided ? undefined : steps[at];
  const files = [...steps]
    .reverse()
    .map(stepFile)
    .filter((f): f is string => f !== undefined);
  const reply = hop.direction === "reply";
  const firstReply = reply && t.hops.findIndex((h) => h.direction === "reply") === i;
  const d = t.disposition;
  const overlayStep =
    step !== undefined
      ? step.kind === "neighbor" || step.kind === "overlay"
      : d.kind === "undecided" && (d.needs === "neighbor-table" || d.needs === "fdb-table");
  let link: PathLinkName;
  if ((!reply && i === 0) || firstReply) {
    // The hop the packet starts on: the client node for the request, the endpoint node for the reply.
    link = overlayStep ? "overlay" : reply ? "endpoint-node" : "route";
  } else {
    const d = decapIndex(steps);
    const after: PathLinkName = reply ? "route" : "endpoint-node";
    link = d === -1 || at <= d ? "overlay" : after;
  }
  return { link, node, ...(step === undefined ? {} : { step }), files, undecided, reply };
}
