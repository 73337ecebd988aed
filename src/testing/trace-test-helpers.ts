/**
 * Test helpers for the tracer's tests (not used by production code): small dumps, a request with
 * defaults, and a one-line summary of each path from the typed trace.
 */
import type { Packet, Trace, TraceResult } from "../model/trace.ts";
import { checkTraceSteps } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { stepText } from "../report/trace-words.ts";
import { addressText } from "../trace/address-text.ts";
import { ruleStepsOf } from "../trace/rule-steps.ts";
import { type TraceRequest, tracePacket } from "../trace/trace-packet.ts";

/** A filter table with the given rules and built-in policies. */
export const filter = (rules: string, policies = { INPUT: "ACCEPT", FORWARD: "ACCEPT", OUTPUT: "ACCEPT" }) =>
  `*filter\n:INPUT ${policies.INPUT} [0:0]\n:FORWARD ${policies.FORWARD} [0:0]\n:OUTPUT ${policies.OUTPUT} [0:0]\n${rules}COMMIT\n`;

/** A nat table with the given rules. */
export const nat = (rules: string) =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rules}COMMIT\n`;

/** User chain declarations. */
export const chains = (names: string[]) => names.map((n) => `:${n} - [0:0]\n`).join("");

/** A pod's packet to a ClusterIP. */
export const POD: Packet = {
  protocol: "tcp",
  srcIp: "10.42.0.5",
  srcPort: 40000,
  dstIp: "10.43.0.10",
  dstPort: 80,
};

type RequestOverrides = { [K in keyof TraceRequest]?: TraceRequest[K] | undefined };

/**
 * Traces `POD` (merged with `packet`) from a pod on cni0 towards eth0, on a node whose only address is
 * 192.168.1.10, unless `req` says otherwise (`undefined` removes a default). Every trace's steps are
 * checked with `checkTraceSteps`.
 */
export function trace(dump: string, packet: Partial<Packet> = {}, req: RequestOverrides = {}): TraceResult {
  const merged = {
    packet: { ...POD, ...packet },
    from: "pod",
    localIps: ["192.168.1.10"],
    inInterface: "cni0",
    outInterface: "eth0",
    ...req,
  };
  const request = Object.fromEntries(
    Object.entries(merged).filter(([, v]) => v !== undefined),
  ) as unknown as TraceRequest;
  const r = tracePacket(parseDump(dump), request);
  for (const t of r.traces) checkTraceSteps(t);
  return r;
}

/** The disposition kind, with the reason for an undecided path. */
export function outcome(t: Trace): string {
  const d = t.disposition;
  return d.kind === "undecided" ? `undecided: ${d.reason}` : d.kind;
}

/** `disposition destination [errno]` of each path, with its probability when not 1. */
export function summary(r: TraceResult): string[] {
  return r.traces.map((t) => {
    const d = t.disposition;
    const err = d.kind === "dropped" || d.kind === "rejected" ? d.clientError : undefined;
    return `${t.probability === 1 ? "" : `${t.probability} `}${d.kind} ${addressText(t.headers.dst)}${err ? ` ${err}` : ""}`;
  });
}

/** The action words of each rule step of a path. */
export function actions(t: Trace): string[] {
  return ruleStepsOf(t).map(stepText);
}

/** The dump lines of each rule step of a path. */
export function lines(t: Trace): number[] {
  return ruleStepsOf(t).map((s) => s.evidence.line);
}
