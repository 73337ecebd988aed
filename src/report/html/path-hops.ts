/**
 * The traced part of the path diagram, from the typed trace: the hops every path shares (the spine),
 * then per path its own hops and an endpoint box with the disposition. Hops are the rule steps
 * (filter and transform) with their file:line evidence.
 */
import type { Disposition, RuleStep, Trace, TraceResult } from "../../model/trace.ts";
import { addressText } from "../../trace/address-text.ts";
import { ruleStepsOf } from "../../trace/rule-steps.ts";
import { clientErrorOf, describeOutcome, dispositionWord, stepText } from "../trace-words.ts";
import { type Box, box, MAX_BRANCHES, MAX_SPINE_HOPS } from "./path-box.ts";

/** The hops of the trace: shared ones, then one branch (hops and endpoint) per drawn path. */
export interface TracedBoxes {
  readonly spineHops: Box[];
  readonly branches: Box[][];
  /** The paths drawn as branches, in order (the endpoint of branch i is path i). */
  readonly drawn: readonly Trace[];
}

function sameStep(a: RuleStep, b: RuleStep): boolean {
  return (
    a === b ||
    (a.evidence.line === b.evidence.line &&
      a.evidence.file === b.evidence.file &&
      a.table === b.table &&
      a.chain === b.chain &&
      stepText(a) === stepText(b))
  );
}

/** One box per run of consecutive steps in the same chain (a chain often matches several rules in a row). */
function hopBoxes(steps: readonly RuleStep[]): Box[] {
  const boxes: Box[] = [];
  let i = 0;
  while (i < steps.length) {
    const first = steps[i]!;
    let j = i + 1;
    while (j < steps.length && steps[j]!.table === first.table && steps[j]!.chain === first.chain) j++;
    const run = steps.slice(i, j);
    const lines = run.map((s) => s.evidence.line).join(", ");
    const b = box(
      "hop",
      `${first.table} ${first.chain}`,
      `line${run.length > 1 ? "s" : ""} ${lines} \u00b7 ${stepText(run[run.length - 1]!)}`,
    );
    for (const step of run) b.hops.push({ file: step.evidence.file, step });
    boxes.push(b);
    i = j;
  }
  return boxes;
}

/** ok for a delivered path, broken for one that ends short of its destination, unknown when undecided. */
export function dispositionStatus(d: Disposition): Box["status"] {
  switch (d.kind) {
    case "undecided":
      return "unknown";
    case "dropped":
    case "rejected":
    case "no-route":
    case "neighbor-unreachable":
      return "broken";
    case "forwarded":
    case "delivered-locally":
    case "delivered":
    case "exits-cluster":
      return "ok";
    default: {
      const never: never = d;
      throw new TypeError(`Unknown disposition ${JSON.stringify(never)}`);
    }
  }
}

function endpointBox(t: Trace, result: TraceResult): Box {
  const parts = [`p=${t.probability.toFixed(2)}`, dispositionWord(t.disposition)];
  const err = clientErrorOf(t.disposition);
  if (err !== undefined) parts.push(err);
  const b = box("endpoint", addressText(t.headers.dst), parts.join(" \u00b7 "));
  b.notes.push(describeOutcome(t, result.flow));
  b.status = dispositionStatus(t.disposition);
  return b;
}

/** Folds the middle of a long hop list into one box so the diagram stays readable. */
function foldHops(hops: Box[], max: number): Box[] {
  if (hops.length <= max) return hops;
  const head = hops.slice(0, Math.ceil(max / 2) - 1);
  const tail = hops.slice(hops.length - Math.floor(max / 2));
  const middle = hops.slice(head.length, hops.length - tail.length);
  const fold = box("fold", `${middle.length} more hops`, "click to list them");
  for (const m of middle) fold.hops.push(...m.hops);
  return [...head, fold, ...tail];
}

/** The box that sums up the paths beyond {@linkcode MAX_BRANCHES}. */
function moreBox(rest: readonly Trace[]): Box {
  const more = box(
    "endpoint",
    `${rest.length} more endpoints`,
    `p=${rest.reduce((s, t) => s + t.probability, 0).toFixed(2)} together`,
  );
  for (const t of rest) {
    more.notes.push(
      `${addressText(t.headers.dst)} (p=${t.probability.toFixed(4)}, ${dispositionWord(t.disposition)})`,
    );
  }
  more.status = rest.some((t) => dispositionStatus(t.disposition) === "broken") ? "broken" : "ok";
  return more;
}

/** The hop and endpoint boxes of a trace (none without one). */
export function tracedBoxes(trace: TraceResult | undefined): TracedBoxes {
  const paths = trace?.traces ?? [];
  const steps = paths.map(ruleStepsOf);
  // The hops every path shares form the spine; what differs forms one branch per path.
  let shared = 0;
  const first = steps[0];
  if (first !== undefined) {
    const limit = Math.min(...steps.map((s) => s.length));
    while (shared < limit && steps.every((s) => sameStep(s[shared]!, first[shared]!))) shared++;
  }
  const spineHops = foldHops(hopBoxes(first?.slice(0, shared) ?? []), MAX_SPINE_HOPS);
  const drawn = paths.slice(0, MAX_BRANCHES);
  const branches: Box[][] = drawn.map((t, i) => [
    ...foldHops(hopBoxes(steps[i]!.slice(shared)), 4),
    endpointBox(t, trace!),
  ]);
  if (paths.length > MAX_BRANCHES) branches.push([moreBox(paths.slice(MAX_BRANCHES))]);
  return { spineHops, branches, drawn };
}

/**
 * Whether a data-plane finding cites the rule that sent this path where it went: one of its
 * evidence lines is the path's DNAT rule or IPVS real server (same file and line).
 */
export function citesDestination(
  evidence: readonly { readonly file: string; readonly line?: number }[],
  t: Trace,
): boolean {
  // The DNAT rule, or the IPVS real server (its ipvsadm.txt line) the path was scheduled to.
  const nat = ruleStepsOf(t).filter(
    (s) => s.kind === "transform" && (s.action.kind === "dnat" || s.action.kind === "ipvs"),
  );
  return evidence.some((ev) =>
    nat.some((s) => ev.line !== undefined && ev.file === s.evidence.file && ev.line === s.evidence.line),
  );
}
