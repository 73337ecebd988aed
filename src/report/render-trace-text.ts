import type { TracePath, TraceResult, TraceStep } from "../model/trace.ts";
import { ERRNO_MESSAGES } from "../trace/reject-errno.ts";
import { terminalSafe } from "./render-findings-text.ts";

/** What `netdoctor trace` prints about where the dump came from. */
export interface TraceTextContext {
  /** The dump's file name, shown in the heading and with every line number. */
  readonly file?: string;
}

function endpoint(ip: string, port: number | undefined): string {
  return port === undefined ? ip : `${ip}:${port}`;
}

function percent(p: number): string {
  const v = p * 100;
  return `${Number.isInteger(v) ? v : Number(v.toFixed(2))}%`;
}

/** The path's outcome in words, as a person would say it. */
export function describeOutcome(path: TracePath, packet: TraceResult["packet"]): string {
  const original = endpoint(packet.dstIp, packet.dstPort);
  const rewritten = path.destination !== original;
  const masq = path.masquerade ? ", source masqueraded" : "";
  const by = path.reason?.match(/by (.*?)( with |:|$)/)?.[1] ?? "a rule";
  switch (path.disposition) {
    case "forward":
      return rewritten
        ? `DNAT to ${path.destination}, then forwarded${masq}`
        : `forwarded to ${path.destination} unchanged${masq}`;
    case "local":
      return rewritten
        ? `DNAT to ${path.destination}, then delivered to the node itself`
        : `delivered to the node itself (${path.destination})`;
    case "drop":
      return path.clientError === undefined
        ? `DROPped by ${by}: the client sees no answer and times out`
        : `DROPped by ${by}: the client's send fails with ${path.clientError} (${ERRNO_MESSAGES[path.clientError] ?? path.clientError})`;
    case "reject": {
      const err = path.clientError;
      const sees =
        err === undefined
          ? "the client sees no error and times out"
          : `the client sees ${ERRNO_MESSAGES[err] ?? err} (${err})`;
      return `REJECTed by ${by} with ${path.rejectWith}: ${sees}`;
    }
    case "unknown":
      return `unknown: ${path.reason ?? "no reason given"}`;
    default: {
      const never: never = path.disposition;
      throw new TypeError(`Unknown disposition ${String(never)}`);
    }
  }
}

function renderStep(step: TraceStep, width: number): string[] {
  const where = `${step.table} ${step.chain}`.padEnd(width);
  return [
    `  ${where}  line ${String(step.line).padStart(5)}  ${terminalSafe(step.rule)}`,
    `  ${" ".repeat(width)}  ${" ".repeat(10)}  -> ${terminalSafe(step.action)}`,
  ];
}

/**
 * Renders a trace for people: the packet, then each path with its probability, every hop with
 * table/chain, dump line, rule text and what it did, and the outcome in words. Dump text is made
 * terminal-safe.
 */
export function renderTraceText(result: TraceResult, context: TraceTextContext = {}): string {
  const p = result.packet;
  const src = endpoint(p.srcIp, p.srcPort);
  const dst = endpoint(p.dstIp, p.dstPort);
  const from = result.from === "pod" ? "arriving from a pod" : "sent by the node itself (hostNetwork)";
  const lines: string[] = [];
  lines.push(
    `Packet ${p.protocol} ${src} -> ${dst}, ${from}${context.file ? `, through ${terminalSafe(context.file)}` : ""}`,
  );
  const n = result.paths.length;
  lines.push(
    n === 1 ? "1 path" : `${n} paths (random load balancing: each path is taken with the probability shown)`,
  );
  const width = Math.max(
    12,
    ...result.paths.flatMap((path) => path.steps.map((s) => s.table.length + 1 + s.chain.length)),
  );
  result.paths.forEach((path, i) => {
    lines.push("");
    lines.push(
      `Path ${i + 1} of ${n}, probability ${percent(path.probability)}: ${describeOutcome(path, p)}`,
    );
    for (const step of path.steps) lines.push(...renderStep(step, width));
    if (path.steps.length === 0)
      lines.push("  (no rule acted on the packet; every chain's policy is ACCEPT)");
    const extra: string[] = [];
    if (path.mark !== undefined) extra.push(`final mark ${path.mark}`);
    if (path.masquerade) extra.push("source masqueraded to the node's address on the way out");
    if (extra.length > 0) lines.push(`  (${extra.join("; ")})`);
  });
  return `${lines.join("\n")}\n`;
}
