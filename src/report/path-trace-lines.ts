/**
 * The diagnosis text's "Across nodes" section: the connection's multi-hop trace (Diagnosis.pathTrace)
 * as one line per node with what it did, the evidence of the step that ended the path, and the end.
 */
import type { Hop, Step, TraceResult } from "../model/trace.ts";
import { terminalSafe } from "../text/terminal-safe.ts";
import { describeOutcome } from "./trace-words.ts";

function short(s: Step): string | undefined {
  switch (s.kind) {
    case "routing":
      return s.outInterface === undefined ? `route ${s.decision}` : `route via ${s.outInterface}`;
    case "neighbor":
      return `ARP ${s.ip} ${s.state}`;
    case "overlay":
      return s.direction === "decapsulate" ? `VXLAN in on ${s.device}` : `VXLAN to ${s.toNode ?? "peer"}`;
    case "deliver":
      if (s.to === "node") return "to the node itself";
      return s.pod === undefined
        ? `bridged on ${s.device ?? "the bridge"} to an address no pod has`
        : `to pod ${s.pod}`;
    case "conntrack":
      return "conntrack entry";
    case "filter":
    case "transform":
      return undefined;
    default: {
      const never: never = s;
      throw new TypeError(`Unknown step ${JSON.stringify(never)}`);
    }
  }
}

function hopLine(h: Hop): string {
  const parts = h.steps.map(short).filter((x): x is string => x !== undefined);
  const rules = h.steps.filter((s) => s.kind === "filter" || s.kind === "transform").length;
  if (rules > 0) parts.push(`${rules} rule step${rules > 1 ? "s" : ""}`);
  const who = `${h.node ?? "?"}${h.direction === "reply" ? " (reply)" : ""}`;
  return `  ${terminalSafe(who)}: ${terminalSafe(parts.join(", ") || "no step")}`;
}

function evidenceOf(s: Step | undefined): string | undefined {
  if (s === undefined) return undefined;
  const e = s.kind === "filter" || s.kind === "transform" ? s.evidence : s.evidence;
  return e === undefined ? undefined : `${e.file}:${e.line}`;
}

/** The section's lines (empty without a path trace). */
export function pathTraceLines(t: TraceResult | undefined): string[] {
  if (t === undefined) return [];
  const out = ["Across nodes:"];
  t.traces.forEach((p, i) => {
    if (t.traces.length > 1) out.push(` path ${i + 1} (${Math.round(p.probability * 1000) / 10}%):`);
    for (const h of p.hops) out.push(hopLine(h));
    const last = p.hops[p.hops.length - 1]?.steps.at(-1);
    const at = p.disposition.kind === "delivered" ? undefined : evidenceOf(last);
    out.push(
      `  -> ${terminalSafe(describeOutcome(p, t.flow))}${at === undefined ? "" : ` [${terminalSafe(at)}]`}`,
    );
  });
  return out;
}
