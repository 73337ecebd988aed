/**
 * The path evaluator's steps (src/hostnet/path-types.ts HostStep) as the typed trace's steps
 * (model/trace-step.ts): routing, neighbour, overlay encapsulation/decapsulation, delivery,
 * conntrack, and each filter answer as the iptables tracer's own rule steps with their dump lines.
 */
import type { HostStep } from "../hostnet/path-types.ts";
import type { Evidence } from "../model/finding.ts";
import type {
  EvidenceRef,
  Headers,
  MissingEvidence,
  NeighborStep,
  Packet,
  RoutingStep,
  Step,
  Trace,
} from "../model/trace.ts";

/** The first evidence with a line (from a file matching `prefer` when there is one), as a step's reference. */
export function evidenceRef(evidence: readonly Evidence[], prefer?: RegExp): { evidence?: EvidenceRef } {
  const lined = evidence.filter((x) => x.line !== undefined);
  const e = (prefer === undefined ? undefined : lined.find((x) => prefer.test(x.file))) ?? lined[0];
  return e === undefined ? {} : { evidence: { file: e.file, line: e.line! } };
}

/** A packet's headers with exact addresses. */
export function packetHeaders(p: Packet): Headers {
  return {
    protocol: p.protocol,
    src: { kind: "exact", ip: p.srcIp, ...(p.srcPort === undefined ? {} : { port: p.srcPort }) },
    dst: { kind: "exact", ip: p.dstIp, ...(p.dstPort === undefined ? {} : { port: p.dstPort }) },
  };
}

/** What a missing host file would decide, for an undecided disposition's `needs`. */
export function needsOf(files: readonly string[]): MissingEvidence {
  const f = files[0] ?? "";
  if (/ip-(route|rule)\.json$/.test(f)) return "routing-table";
  if (/ip-(addr|link)\.json$/.test(f)) return "interfaces";
  if (f.endsWith("ip-neigh.json")) return "neighbor-table";
  if (f.endsWith("bridge-fdb.json")) return "fdb-table";
  if (f.endsWith("sysctl.txt")) return "kernel-settings";
  if (f.endsWith("conntrack.txt")) return "connection-history";
  if (f.endsWith("iptables-save.txt") || /^nodes\/[^/]+\/$/.test(f)) return "node-rules";
  return "manual-check";
}

function routingStep(s: Extract<HostStep, { kind: "routing" }>, dst: Packet, outIf?: string): RoutingStep {
  let decision: RoutingStep["decision"];
  switch (s.decision) {
    case "local":
      decision = "local";
      break;
    case "unicast":
      decision = "forward";
      break;
    case "broadcast":
    case "none":
      decision = "no-route";
      break;
    case "blocked":
      decision = /blackhole/.test(s.action) ? "drop" : "no-route";
      break;
    case "forwarding-disabled":
    case "rp-filter-drop":
      decision = "drop";
      break;
    case "unknown":
      decision = "undecided";
      break;
    default: {
      const never: never = s.decision;
      throw new TypeError(`Unknown routing decision ${JSON.stringify(never)}`);
    }
  }
  return {
    kind: "routing",
    decision,
    dst: { kind: "exact", ip: dst.dstIp, ...(dst.dstPort === undefined ? {} : { port: dst.dstPort }) },
    basis: "route-table",
    ...(decision === "forward" && outIf !== undefined ? { outInterface: outIf } : {}),
    // The route (or the sysctl that dropped) proves it better than the policy rule that led to it.
    ...evidenceRef(s.evidence, decision === "drop" ? /sysctl\.txt$/ : /ip-route\.json$/),
    ...(decision === "forward" || decision === "local" ? {} : { reason: s.action }),
  };
}

function neighborStep(s: Extract<HostStep, { kind: "neighbor" }>): NeighborStep {
  const o = s.outcome;
  const state: NeighborStep["state"] =
    o.kind === "resolved" || o.kind === "pod-answers" || o.kind === "node-answers"
      ? "answers"
      : o.kind === "failed" || o.kind === "nothing-answers"
        ? "no-answer"
        : o.kind === "not-needed"
          ? "not-needed"
          : "undecided";
  return {
    kind: "neighbor",
    ip: s.ip,
    device: s.device,
    state,
    reason: s.action,
    ...evidenceRef(s.evidence),
  };
}

/** How to read the evaluator's steps of one hop. */
export interface StepContext {
  /** The tracer's path behind each filter answer (host-filter.ts). */
  readonly traces: WeakMap<readonly Evidence[], Trace>;
  /** The packet this hop routes (its destination is the routing step's). */
  readonly packet: Packet;
  readonly outInterface?: string;
  /** The node of each overlay's outer destination, when known. */
  readonly nodeOfIp: (ip: string) => string | undefined;
  /** Leave out nat-table rule steps (the client node's NAT is shown once, before routing). */
  readonly skipNat?: boolean;
}

/** One evaluator step as typed trace steps (a filter answer is its rule steps, maybe none). */
export function hostStepToSteps(s: HostStep, ctx: StepContext): Step[] {
  switch (s.kind) {
    case "routing":
      return [routingStep(s, ctx.packet, ctx.outInterface)];
    case "neighbor":
      return [neighborStep(s)];
    case "overlay": {
      const outer = s.outer ?? ctx.packet;
      const toNode = s.direction === "encapsulate" ? ctx.nodeOfIp(outer.dstIp) : undefined;
      return [
        {
          kind: "overlay",
          encapsulation: "vxlan",
          direction: s.direction,
          device: s.device,
          ...(s.vni === undefined ? {} : { vni: s.vni }),
          outer: packetHeaders(outer),
          ...(toNode === undefined ? {} : { toNode }),
          ...evidenceRef(s.evidence),
        },
      ];
    }
    case "deliver":
      return [
        {
          kind: "deliver",
          // A delivery on a device is a bridge handing the packet to a pod's address (a pod of the
          // bundle or not); without a device it is the node's own INPUT.
          to: s.pod === undefined && s.device === undefined ? "node" : "pod",
          ...(s.pod === undefined ? {} : { pod: s.pod }),
          ...(s.device === undefined ? {} : { device: s.device }),
          // A bridged delivery is proven by the connected route that puts the address on the bridge
          // (or the pod that has it), not by the policy rule that led to the main table.
          ...evidenceRef(s.evidence, /ip-route\.json$/),
        },
      ];
    case "filter": {
      const t = ctx.traces.get(s.evidence);
      if (t === undefined) return [];
      // Only the rule steps: the tracer's own local-or-forward guess is the routing step's to make.
      return t.hops
        .flatMap((h) => h.steps)
        .filter(
          (x) =>
            (x.kind === "filter" || x.kind === "transform") && !(ctx.skipNat === true && x.table === "nat"),
        );
    }
    case "conntrack":
      return [{ kind: "conntrack", entry: s.action, ...evidenceRef(s.evidence) }];
    default: {
      const never: never = s;
      throw new TypeError(`Unknown host step ${JSON.stringify(never)}`);
    }
  }
}
