/**
 * The path diagram as data: the boxes a packet passes (client pod, name resolution, Service, client's node,
 * each chain hop, endpoints) with their status and the evidence each box reveals when clicked.
 */
import type { CheckStep, Diagnosis } from "../../model/diagnosis.ts";
import type { Finding } from "../../model/finding.ts";
import type { TracePath, TraceStep } from "../../model/trace.ts";
import { formatCount } from "./fragments.ts";
import { findingSlot, type Slot, stepSlot } from "./path-slots.ts";

/** What a box of the diagram stands for. */
export type BoxKind = "client" | "dns" | "service" | "node" | "hop" | "fold" | "endpoint";
/** `cited`: a hop whose rule a finding cites as evidence, without being where the path breaks. */
export type BoxStatus = "ok" | "broken" | "cited" | "unknown" | "neutral";

/** A trace step with the dump it comes from, for file:line evidence. */
export interface HopEvidence {
  readonly file: string;
  readonly step: TraceStep;
}

/** One box of the diagram with the evidence its panel shows. */
export interface Box {
  readonly kind: BoxKind;
  readonly title: string;
  readonly sub: string;
  status: BoxStatus;
  /** True for the box of the first broken link (`brokenAt`). */
  brokenLink: boolean;
  readonly steps: CheckStep[];
  readonly findings: Finding[];
  readonly hops: HopEvidence[];
  readonly notes: string[];
}

/** Boxes from the client to the node and the hops every path shares, then one branch per path. */
export interface PathModel {
  readonly spine: Box[];
  readonly branches: Box[][];
}

/** Branches drawn; the remaining paths are summarised in one box. */
export const MAX_BRANCHES = 8;
/** Hops drawn on the spine; the middle ones are folded into one box beyond this. */
export const MAX_SPINE_HOPS = 12;

function box(kind: BoxKind, title: string, sub: string): Box {
  return {
    kind,
    title,
    sub,
    status: "neutral",
    brokenLink: false,
    steps: [],
    findings: [],
    hops: [],
    notes: [],
  };
}

function stepStatus(steps: readonly CheckStep[]): BoxStatus {
  if (steps.length === 0) return "neutral";
  if (steps.some((s) => s.status === "broken")) return "broken";
  if (steps.some((s) => s.status === "undecided")) return "unknown";
  if (steps.some((s) => s.status === "at-risk")) return "cited";
  if (steps.every((s) => s.status === "not-applicable")) return "neutral";
  return "ok";
}

function sameStep(a: TraceStep, b: TraceStep): boolean {
  return a.line === b.line && a.table === b.table && a.chain === b.chain && a.action === b.action;
}

/** One box per run of consecutive steps in the same chain (a chain often matches several rules in a row). */
function hopBoxes(file: string, steps: readonly TraceStep[]): Box[] {
  const boxes: Box[] = [];
  let i = 0;
  while (i < steps.length) {
    const first = steps[i]!;
    let j = i + 1;
    while (j < steps.length && steps[j]!.table === first.table && steps[j]!.chain === first.chain) j++;
    const run = steps.slice(i, j);
    const last = run[run.length - 1]!;
    const lines = run.map((s) => s.line).join(", ");
    const b = box(
      "hop",
      `${first.table} ${first.chain}`,
      `line${run.length > 1 ? "s" : ""} ${lines} \u00b7 ${last.action}`,
    );
    for (const step of run) b.hops.push({ file, step });
    boxes.push(b);
    i = j;
  }
  return boxes;
}

function endpointBox(path: TracePath): Box {
  const dest = path.destination === "" ? path.disposition : path.destination;
  const parts = [`p=${path.probability.toFixed(2)}`, path.disposition];
  if (path.clientError !== undefined) parts.push(path.clientError);
  const b = box("endpoint", dest, parts.join(" \u00b7 "));
  if (path.reason !== undefined) b.notes.push(path.reason);
  if (path.rejectWith !== undefined) b.notes.push(`rejected with ${path.rejectWith}`);
  b.status =
    path.disposition === "unknown"
      ? "unknown"
      : path.disposition === "drop" || path.disposition === "reject"
        ? "broken"
        : "ok";
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

/**
 * Whether a data-plane finding cites a dump rule that sends packets to this destination: its evidence has
 * a line whose text names `ip:port`, or `--to-destination ip` without a port.
 */
function mentions(f: Finding, destination: string): boolean {
  if (destination === "") return false;
  const ip = destination.replace(/:\d+$/, "");
  return f.evidence.some((ev) => {
    if (ev.line === undefined) return false;
    if (ev.text.includes(destination)) return true;
    const at = ev.text.indexOf(`--to-destination ${ip}`);
    return at >= 0 && !/[0-9.:]/.test(ev.text.charAt(at + 17 + ip.length));
  });
}

/** Builds the diagram's boxes from a diagnosis that asked a question (`--from/--to`). */
export function pathModel(d: Diagnosis): PathModel | undefined {
  const q = d.question;
  if (q === undefined) return undefined;
  const client = box("client", q.from ?? "client", "client pod");
  const dns = box("dns", q.to ?? "destination", "name resolution");
  const serviceName = d.findings.find((f) => f.service !== undefined)?.service;
  const target = q.clusterIp === undefined ? "" : `${q.clusterIp}${q.port === undefined ? "" : `:${q.port}`}`;
  const service = box(
    "service",
    serviceName ?? (target || "Service"),
    target === "" ? "Service" : `Service \u00b7 ${target}`,
  );
  const summary = d.nodes.find((n) => n.node === q.clientNode);
  const nodeSub =
    summary === undefined
      ? "client's node"
      : `client's node \u00b7 ${summary.readable ? `${formatCount(summary.rules)} rules` : "rules unreadable"}`;
  const node = box("node", q.clientNode ?? "unknown node", nodeSub);
  const file = summary?.file ?? "dump";
  const slots: Record<Exclude<Slot, "dataplane" | "none">, Box> = { client, dns, service, node };

  // The hops every path shares form the spine; what differs forms one branch per path.
  const paths = d.trace?.paths ?? [];
  let shared = 0;
  const first = paths[0];
  if (first !== undefined) {
    const limit = paths.length === 1 ? first.steps.length : Math.min(...paths.map((p) => p.steps.length));
    while (shared < limit && paths.every((p) => sameStep(p.steps[shared]!, first.steps[shared]!))) shared++;
  }
  const spineHops = foldHops(hopBoxes(file, first?.steps.slice(0, shared) ?? []), MAX_SPINE_HOPS);
  const branches: Box[][] = paths.slice(0, MAX_BRANCHES).map((p) => {
    const hops = foldHops(hopBoxes(file, p.steps.slice(shared)), 4);
    return [...hops, endpointBox(p)];
  });
  if (paths.length > MAX_BRANCHES) {
    const rest = paths.slice(MAX_BRANCHES);
    const more = box(
      "endpoint",
      `${rest.length} more endpoints`,
      `p=${rest.reduce((s, p) => s + p.probability, 0).toFixed(2)} together`,
    );
    for (const p of rest)
      more.notes.push(`${p.destination || p.disposition} (p=${p.probability.toFixed(4)}, ${p.disposition})`);
    more.status = rest.some((p) => p.disposition === "drop" || p.disposition === "reject") ? "broken" : "ok";
    branches.push([more]);
  }
  if (d.trace === undefined)
    node.notes.push("No trace: the node's rules could not be walked (see the node's findings)");

  const endpoints = branches.map((b) => b[b.length - 1]!);
  const allHops = [...spineHops, ...branches.flat()].filter((b) => b.kind === "hop" || b.kind === "fold");
  const lastHop = spineHops[spineHops.length - 1];
  const dataplaneSteps: CheckStep[] = [];
  for (const s of d.steps) {
    const slot = stepSlot(s.check);
    if (slot === "dataplane") dataplaneSteps.push(s);
    else if (slot !== "none") slots[slot].steps.push(s);
  }
  for (const b of [client, dns, service, node]) b.status = stepStatus(b.steps);
  const dataplaneStatus = stepStatus(dataplaneSteps);
  if (dataplaneStatus === "ok") for (const h of allHops) h.status = "ok";

  // Data-plane findings go to the endpoints whose DNAT rule they cite, else to the hops whose rules they
  // cite, else to the node; the broken link is where the packet actually goes wrong.
  const hitEndpoints = new Set<Box>();
  const hitHops = new Set<Box>();
  for (const f of d.findings) {
    const slot = findingSlot(f.code);
    if (slot === "none") continue;
    if (f.node !== undefined && q.clientNode !== undefined && f.node !== q.clientNode && slot !== "client")
      continue;
    if (slot !== "dataplane") {
      slots[slot].findings.push(f);
      continue;
    }
    const hops = allHops.filter((h) =>
      h.hops.some((x) => f.evidence.some((ev) => ev.file === x.file && ev.line === x.step.line)),
    );
    const ends = paths
      .slice(0, MAX_BRANCHES)
      .flatMap((p, i) => (mentions(f, p.destination) ? [endpoints[i]!] : []));
    for (const h of hops) {
      h.findings.push(f);
      if (h.status !== "broken") h.status = "cited";
    }
    for (const t of ends) {
      t.findings.push(f);
      if (f.severity === "error") t.status = "broken";
    }
    if (hops.length + ends.length === 0) node.findings.push(f);
    if (f.severity === "error") {
      for (const e of ends) hitEndpoints.add(e);
      for (const h of hops) hitHops.add(h);
    }
  }
  const failedEnds = endpoints.filter((b) => b.status === "broken");
  const dataplaneTargets =
    hitEndpoints.size > 0
      ? [...hitEndpoints]
      : failedEnds.length > 0
        ? failedEnds
        : hitHops.size > 0
          ? [...hitHops].slice(-1)
          : [lastHop ?? node];
  if (dataplaneSteps.length > 0) for (const t of dataplaneTargets) t.steps.push(...dataplaneSteps);

  // Mark the first broken link: the box(es) of `brokenAt`.
  const at = d.brokenAt;
  if (!d.ok && at !== undefined) {
    const slot = stepSlot(at);
    let marked: Box[] = [];
    if (slot === "dataplane") marked = dataplaneTargets;
    else if (slot !== "none") marked = [slots[slot]];
    for (const b of marked) {
      b.brokenLink = true;
      b.status = "broken";
    }
  }
  return { spine: [client, dns, service, node, ...spineHops], branches };
}
