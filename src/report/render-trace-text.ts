/**
 * `netdoctor trace` for people: the packet, then each path with its probability, every rule that
 * acted with table/chain, dump line, rule text and action, and the outcome in words. Renders the
 * typed trace (model/trace.ts) only; dump text is made terminal-safe.
 */
import type { Step, Trace, TraceResult } from "../model/trace.ts";
import { terminalSafe } from "../text/terminal-safe.ts";
import { describeOutcome, stepText } from "./trace-words.ts";

export { describeOutcome } from "./trace-words.ts";

/** What `netdoctor trace` prints about where the dump came from. */
export interface TraceTextContext {
  /** The dump's file name, shown in the heading. */
  readonly file?: string;
}

function endpoint(ip: string, port: number | undefined): string {
  return port === undefined ? ip : `${ip}:${port}`;
}

function percent(p: number): string {
  const v = p * 100;
  return `${Number.isInteger(v) ? v : Number(v.toFixed(2))}%`;
}

/** `table chain`, and for nft rules `family table chain` (nft names a table with its family). */
function nftWhere(step: { backend: string; family?: string; table: string; chain: string }): string {
  return step.backend === "nft" && step.family !== undefined
    ? `${step.family} ${step.table} ${step.chain}`
    : `${step.table} ${step.chain}`;
}

/** Where an nft (or IPVS) rule is: its file and handle; an iptables rule's file when not the heading's dump. */
function nftProof(
  step: { backend: string; evidence: { file: string; handle?: number } },
  file?: string,
): string {
  // An IPVS step's line is in the node's ipvsadm.txt: always named.
  if (step.backend === "iptables" && (file === undefined || step.evidence.file === file)) return "";
  const handle = step.evidence.handle === undefined ? "" : ` handle ${step.evidence.handle}`;
  return `  (${terminalSafe(step.evidence.file)}${handle})`;
}

/** ` [nodes/a/ip-route.json:12]` for a non-rule step with evidence, else "". */
function whereText(step: Step): string {
  const e = "evidence" in step ? step.evidence : undefined;
  return e === undefined ? "" : ` [${terminalSafe(e.file)}:${e.line}]`;
}

/**
 * The lines of one step. Rule steps show table, chain, dump line and rule text, then what they did;
 * a decided route is not shown (no dump line proves it yet, and the outcome says where it went).
 */
function renderStep(step: Step, width: number, file?: string): string[] {
  const pad = `  ${" ".repeat(width)}  ${" ".repeat(10)}  -> `;
  switch (step.kind) {
    case "filter":
    case "transform": {
      const where = nftWhere(step).padEnd(width);
      return [
        `  ${terminalSafe(where)}  line ${String(step.evidence.line).padStart(5)}  ${terminalSafe(step.rule)}${nftProof(step, file)}`,
        `${pad}${terminalSafe(stepText(step))}`,
      ];
    }
    case "routing":
      // A route read from a node's `ip route` is shown with its line; the tracer's own
      // local-or-forward guess is not (the outcome says where it went).
      if (step.decision !== "undecided" && step.evidence === undefined) return [];
      return [
        `  ${"routing".padEnd(width)}  ${" ".repeat(10)}  -> ${terminalSafe(stepText(step))}${whereText(step)}`,
      ];
    case "overlay":
    case "neighbor":
    case "deliver":
    case "conntrack":
      return [
        `  ${step.kind.padEnd(width)}  ${" ".repeat(10)}  -> ${terminalSafe(stepText(step))}${whereText(step)}`,
      ];
    default: {
      const never: never = step;
      throw new TypeError(`Unknown step ${JSON.stringify(never)}`);
    }
  }
}

function ruleSteps(trace: Trace): number {
  let n = 0;
  for (const hop of trace.hops)
    for (const s of hop.steps) if (s.kind === "filter" || s.kind === "transform") n++;
  return n;
}

function renderTrace(trace: Trace, width: number, file?: string): string[] {
  const lines: string[] = [];
  const several = trace.hops.length > 1;
  for (const hop of trace.hops) {
    if (several)
      lines.push(
        `  on node ${terminalSafe(hop.node ?? "(unnamed)")}${hop.direction === "reply" ? " (the reply)" : ""}:`,
      );
    for (const step of hop.steps) lines.push(...renderStep(step, width, file));
  }
  // Across nodes, a node whose rules were not read has no rule steps either: say nothing there.
  if (ruleSteps(trace) === 0 && !several)
    lines.push("  (no rule acted on the packet; every chain's policy is ACCEPT)");
  const extra: string[] = [];
  const mark = trace.hops[trace.hops.length - 1]?.mark;
  if (mark !== undefined) extra.push(`final mark ${mark}`);
  if (trace.headers.src.kind === "out-interface")
    extra.push("source masqueraded to the node's address on the way out");
  if (extra.length > 0) lines.push(`  (${extra.join("; ")})`);
  return lines;
}

/**
 * Renders a trace for people.
 *
 * @example
 * ```ts
 * renderTraceText(tracePacket(ruleset, request), { file: "node1.txt" });
 * ```
 */
export function renderTraceText(result: TraceResult, context: TraceTextContext = {}): string {
  const f = result.flow;
  const from = f.ingress === "pod" ? "arriving from a pod" : "sent by the node itself (hostNetwork)";
  const node = f.node === undefined ? "" : ` on ${terminalSafe(f.node)}`;
  const lines: string[] = [
    `Packet ${f.protocol} ${endpoint(f.srcIp, f.srcPort)} -> ${endpoint(f.dstIp, f.dstPort)}, ${from}${node}${context.file ? `, through ${terminalSafe(context.file)}` : ""}`,
  ];
  const n = result.traces.length;
  lines.push(
    n === 1 ? "1 path" : `${n} paths (random load balancing: each path is taken with the probability shown)`,
  );
  let width = 12;
  for (const t of result.traces)
    for (const hop of t.hops)
      for (const s of hop.steps)
        if (s.kind === "filter" || s.kind === "transform") width = Math.max(width, nftWhere(s).length);
  result.traces.forEach((t, i) => {
    lines.push(
      "",
      `Path ${i + 1} of ${n}, probability ${percent(t.probability)}: ${terminalSafe(describeOutcome(t, f))}`,
    );
    lines.push(...renderTrace(t, width, context.file));
  });
  return `${lines.join("\n")}\n`;
}
