/**
 * Probes of the netns lab: one connection attempt made by a client agent, and what the kernel made
 * of it (who answered, on which address, from which source; or the errno; or nothing).
 */
import { type LabAgent, nextLine } from "./netns-lab-agent.ts";

export interface ProbeRequest {
  /** A pod name, or "node" for a connection made by the node itself. */
  readonly from: string;
  readonly protocol: "tcp" | "udp";
  readonly dstIp: string;
  readonly dstPort: number;
  readonly srcPort?: number;
  /** Hard limit of one attempt (default 1000 ms); a DROP shows as a timeout. */
  readonly timeoutMs?: number;
}

export interface ProbeResult {
  readonly outcome: "answer" | "error" | "timeout";
  /** For `error`: the errno name the client saw (ECONNREFUSED, EHOSTUNREACH, ...). */
  readonly errno?: string;
  /** For `answer`: the name of the server that answered ("node" for the node itself, "world"). */
  readonly server?: string;
  /** For `answer`: the address the server accepted on, i.e. the destination after rewrites. */
  readonly destination?: string;
  /** For `answer`: the source address the server saw. */
  readonly source?: string;
  readonly ms: number;
}

export interface SampleOptions {
  readonly attempts: number;
  /** Stop early once this returns true (checked after each attempt). */
  readonly stopWhen?: (seen: ReadonlyMap<string, number>) => boolean;
}

/** A stable name for an outcome: `answer SERVER DEST`, `error ERRNO` or `timeout`. */
export function outcomeKey(result: ProbeResult): string {
  switch (result.outcome) {
    case "answer":
      return `answer ${result.server} ${result.destination}`;
    case "error":
      return `error ${result.errno}`;
    case "timeout":
      return "timeout";
    default: {
      const never: never = result.outcome;
      throw new TypeError(`Unknown outcome ${String(never)}`);
    }
  }
}

/** Sends `request` (numbered `id`) to the client `agent` and reads its answer. */
export async function probeWith(agent: LabAgent, request: ProbeRequest, id: number): Promise<ProbeResult> {
  const timeoutMs = request.timeoutMs ?? 1000;
  agent.proc.stdin.write(`${JSON.stringify({ ...request, id, timeoutMs })}\n`);
  const line = await nextLine(agent, timeoutMs + 5000, `client in ${request.from}`);
  const r = JSON.parse(line) as {
    id: number;
    outcome: ProbeResult["outcome"];
    errno?: string;
    reply?: string;
    ms: number;
  };
  if (r.id !== id) throw new Error(`netns lab: answer ${r.id} for request ${id}`);
  if (r.outcome !== "answer") {
    return r.errno === undefined
      ? { outcome: r.outcome, ms: r.ms }
      : { outcome: r.outcome, errno: r.errno, ms: r.ms };
  }
  const [server, destination, source] = (r.reply ?? "").split(" ");
  return {
    outcome: "answer",
    server: server ?? "",
    destination: destination ?? "",
    source: source ?? "",
    ms: r.ms,
  };
}

/** Repeats `probe` of `request` (at most `options.attempts` times) and counts outcomes by {@linkcode outcomeKey}. */
export async function sampleProbes(
  probe: (request: ProbeRequest) => Promise<ProbeResult>,
  request: ProbeRequest,
  options: SampleOptions,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < options.attempts; i++) {
    const key = outcomeKey(await probe(request));
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (options.stopWhen?.(seen)) break;
  }
  return seen;
}
