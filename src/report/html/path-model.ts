/**
 * The path diagram as data: the boxes a packet passes (client pod, name resolution, Service, client's node,
 * each chain hop, endpoints) with their status and the evidence each box reveals when clicked. The
 * traced part comes from the typed trace (path-hops.ts); findings attach to boxes by their evidence
 * (file and line), never by reading text.
 */
import type { CheckStep, Diagnosis } from "../../model/diagnosis.ts";
import type { Finding } from "../../model/finding.ts";
import type { Trace } from "../../model/trace.ts";
import { describeOutcome } from "../trace-words.ts";
import { formatCount } from "./fragments.ts";
import { type Box, type BoxStatus, box } from "./path-box.ts";
import { citesDestination, tracedBoxes } from "./path-hops.ts";
import { isPathCheck, nodeBoxes, placePathChecks } from "./path-nodes.ts";
import { findingSlot, type Slot, stepSlot } from "./path-slots.ts";

export {
  type Box,
  type BoxKind,
  type BoxStatus,
  type HopEvidence,
  MAX_BRANCHES,
  MAX_SPINE_HOPS,
} from "./path-box.ts";

/** Boxes from the client to the node and the hops every path shares, then one branch per path. */
export interface PathModel {
  readonly spine: Box[];
  readonly branches: Box[][];
}

type Slots = Record<Exclude<Slot, "dataplane" | "none">, Box>;

function stepStatus(steps: readonly CheckStep[]): BoxStatus {
  if (steps.length === 0) return "neutral";
  if (steps.some((s) => s.status === "broken")) return "broken";
  if (steps.some((s) => s.status === "undecided")) return "unknown";
  if (steps.some((s) => s.status === "at-risk")) return "cited";
  if (steps.every((s) => s.status === "not-applicable")) return "neutral";
  return "ok";
}

/** The boxes before the trace: client, name resolution, Service, client's node. */
function questionBoxes(d: Diagnosis, q: NonNullable<Diagnosis["question"]>): Slots {
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
  if (d.trace === undefined)
    node.notes.push("No trace: the node's rules could not be walked (see the node's findings)");
  return { client, dns, service, node, policy: policyBox(d) };
}

const NETPOL_CODES: ReadonlySet<string> = new Set([
  "netpol-denied",
  "netpol-node-disagrees",
  "netpol-not-enforced",
  "netpol-allowed",
]);

/**
 * The NetworkPolicy box: titled with the policy that decides (the first NetworkPolicy finding's
 * policy evidence), its sub-line the node rule that matched (the finding's first dump line).
 */
function policyBox(d: Diagnosis): Box {
  const f = d.findings.find((x) => NETPOL_CODES.has(x.code));
  const policy = f?.evidence.find((e) => e.file === "cluster/networkpolicies.json");
  const rule = f?.evidence.find((e) => e.file.endsWith("/iptables-save.txt") && e.line !== undefined);
  const title = policy === undefined ? "NetworkPolicy" : policy.text.replace(/^NetworkPolicy /, "");
  const sub =
    rule === undefined
      ? "network policy"
      : `node rule ${rule.file.replace(/^nodes\/([^/]+)\/.*$/, "$1")} line ${rule.line}`;
  return box("policy", title, sub);
}

/** Whether the diagram draws the NetworkPolicy box: when a policy decides or the link is not plainly ok. */
function drawsPolicy(d: Diagnosis): boolean {
  const s = d.steps.find((x) => x.check === "network-policy");
  if (s === undefined || s.status === "not-applicable") return false;
  return s.status !== "ok" || d.findings.some((x) => NETPOL_CODES.has(x.code));
}

/** Where the data-plane findings landed: the boxes they cite (error findings only for `hit*`). */
interface Placed {
  readonly hitEndpoints: Set<Box>;
  readonly hitHops: Set<Box>;
}

/**
 * Data-plane findings go to the endpoints whose DNAT rule they cite, else to the hops whose rules they
 * cite, else to the node; the others go to their slot's box.
 */
function placeFindings(
  d: Diagnosis,
  at: { slots: Slots; hops: readonly Box[]; endpoints: readonly Box[]; drawn: readonly Trace[] },
): Placed {
  const placed: Placed = { hitEndpoints: new Set(), hitHops: new Set() };
  const clientNode = d.question?.clientNode;
  for (const f of d.findings) {
    const slot = findingSlot(f.code);
    if (slot === "none") continue;
    // NetworkPolicy findings may be about the endpoint's node (ingress): they belong to the policy box.
    if (
      f.node !== undefined &&
      clientNode !== undefined &&
      f.node !== clientNode &&
      slot !== "client" &&
      slot !== "policy"
    )
      continue;
    if (slot !== "dataplane") {
      at.slots[slot].findings.push(f);
      continue;
    }
    const hops = at.hops.filter((h) =>
      h.hops.some((x) => f.evidence.some((ev) => ev.file === x.file && ev.line === x.step.evidence.line)),
    );
    const ends = at.drawn.flatMap((t, i) => (citesDestination(f.evidence, t) ? [at.endpoints[i]!] : []));
    attach(f, hops, ends);
    if (hops.length + ends.length === 0) at.slots.node.findings.push(f);
    if (f.severity === "error") {
      for (const e of ends) placed.hitEndpoints.add(e);
      for (const h of hops) placed.hitHops.add(h);
    }
  }
  return placed;
}

function attach(f: Finding, hops: readonly Box[], ends: readonly Box[]): void {
  for (const h of hops) {
    h.findings.push(f);
    if (h.status !== "broken") h.status = "cited";
  }
  for (const t of ends) {
    t.findings.push(f);
    if (f.severity === "error") t.status = "broken";
  }
}

/** Builds the diagram's boxes from a diagnosis that asked a question (`--from/--to`). */
export function pathModel(d: Diagnosis): PathModel | undefined {
  const q = d.question;
  if (q === undefined) return undefined;
  const slots = questionBoxes(d, q);
  const { spineHops, branches, drawn } = tracedBoxes(d.trace);
  const endpoints = branches.map((b) => b[b.length - 1]!);
  const hops = [...spineHops, ...branches.flat()].filter((b) => b.kind === "hop" || b.kind === "fold");
  const across = acrossNodes(d, branches);
  const dataplaneSteps: CheckStep[] = [];
  for (const s of d.steps) {
    if (across.length > 0 && isPathCheck(s.check)) continue;
    const slot = stepSlot(s.check);
    if (slot === "dataplane") dataplaneSteps.push(s);
    else if (slot !== "none") slots[slot].steps.push(s);
  }
  for (const b of Object.values(slots)) b.status = stepStatus(b.steps);
  if (stepStatus(dataplaneSteps) === "ok") for (const h of hops) h.status = "ok";
  const placed = placeFindings(d, { slots, hops, endpoints, drawn });

  // The broken link is where the packet actually goes wrong.
  const failedEnds = endpoints.filter((b) => b.status === "broken");
  const dataplaneTargets =
    placed.hitEndpoints.size > 0
      ? [...placed.hitEndpoints]
      : failedEnds.length > 0
        ? failedEnds
        : placed.hitHops.size > 0
          ? [...placed.hitHops].slice(-1)
          : [spineHops[spineHops.length - 1] ?? slots.node];
  if (dataplaneSteps.length > 0) for (const t of dataplaneTargets) t.steps.push(...dataplaneSteps);

  // Mark the first broken link: the box(es) of `brokenAt`.
  const at = d.brokenAt;
  if (!d.ok && at !== undefined) {
    const slot = stepSlot(at);
    const onNodes = isPathCheck(at) ? across.filter((b) => b.status === "broken") : [];
    const marked =
      onNodes.length > 0
        ? onNodes
        : slot === "dataplane"
          ? dataplaneTargets
          : slot === "none"
            ? []
            : [slots[slot]];
    for (const b of marked) {
      b.brokenLink = true;
      b.status = "broken";
    }
  }
  const policy = drawsPolicy(d) ? [slots.policy] : [];
  return { spine: [slots.client, slots.dns, slots.service, slots.node, ...spineHops, ...policy], branches };
}

/**
 * The nodes the connection crosses (from `pathTrace`), drawn before each branch's endpoint, which
 * then shows how the connection ends across nodes. Returns every node box drawn.
 */
function acrossNodes(d: Diagnosis, branches: Box[][]): Box[] {
  const paths = d.pathTrace?.traces ?? [];
  if (paths.length === 0) return [];
  const client = d.question?.clientNode;
  const all: Box[] = [];
  const fits = paths.length === branches.length;
  const targets = fits ? branches : [branches[0] ?? []];
  if (!fits && branches.length === 0) branches.push(targets[0]!);
  targets.forEach((branch, i) => {
    const t = paths[fits ? i : 0]!;
    const boxes = nodeBoxes(t, client);
    const end = branch[branch.length - 1];
    const at = end?.kind === "endpoint" ? branch.length - 1 : branch.length;
    branch.splice(at, 0, ...boxes);
    if (end?.kind === "endpoint" && d.pathTrace !== undefined) {
      end.notes.push(`Across nodes: ${describeOutcome(t, d.pathTrace.flow)}`);
      if (boxes.some((b) => b.status !== "ok")) end.status = boxes[boxes.length - 1]!.status;
    }
    all.push(...boxes);
  });
  placePathChecks(
    d,
    all,
    d.steps.filter((s) => isPathCheck(s.check)),
  );
  return all;
}
