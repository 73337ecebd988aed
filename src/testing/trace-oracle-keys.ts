/**
 * The oracle's topology and probes, and the outcome keys it compares: what the tracer predicts and
 * what the lab observed.
 */
import type { Trace } from "../model/trace.ts";
import { addressText } from "../trace/address-text.ts";
import type { ProbeResult } from "./netns-lab.ts";

/** Where the standard oracle topology puts each address. */
export const ORACLE_TOPOLOGY = {
  nodeIp: "198.18.0.1",
  pod: { name: "pod", ip: "198.18.1.2" },
  pod2: { name: "pod2", ip: "198.18.1.3" },
  servers: [
    { name: "ep1", ip: "198.18.2.1" },
    { name: "ep2", ip: "198.18.2.2" },
    { name: "ep3", ip: "198.18.2.3" },
  ],
  ports: [80, 443, 8080, 30080],
} as const;

export interface OracleProbe {
  readonly from: "pod" | "pod2" | "node";
  readonly protocol?: "tcp" | "udp";
  readonly dstIp: string;
  readonly dstPort: number;
  readonly srcPort?: number;
  /**
   * Source ports that every rule treats alike: each attempt takes the next port of the range (the
   * prediction uses the first), so no attempt meets a conntrack entry an earlier one left behind.
   */
  readonly srcPortRange?: readonly [number, number];
}

function ipOf(endpoint: string): string {
  return endpoint.split(":")[0] ?? endpoint;
}

export function serverOf(ip: string): string {
  const t = ORACLE_TOPOLOGY;
  if (ip === t.nodeIp || ip.startsWith("127.")) return "node";
  const s = t.servers.find((x) => x.ip === ip);
  if (s !== undefined) return s.name;
  if (ip.startsWith("198.19.")) return "world";
  return `nobody(${ip})`;
}

export function podIp(from: OracleProbe["from"]): string {
  const t = ORACLE_TOPOLOGY;
  return from === "pod" ? t.pod.ip : from === "pod2" ? t.pod2.ip : t.nodeIp;
}

/** The source the server sees for a traced path: the node's address after MASQUERADE. */
function sourceSeen(t: Trace): string {
  const src = t.headers.src;
  switch (src.kind) {
    case "exact":
      return src.ip;
    case "out-interface":
      return ORACLE_TOPOLOGY.nodeIp;
    case "range":
      return `${src.minIp}-${src.maxIp}`;
    default: {
      const never: never = src;
      throw new TypeError(`Unknown address ${JSON.stringify(never)}`);
    }
  }
}

/** What the lab should show for a traced path. */
export function expectedKey(path: Trace, protocol: "tcp" | "udp"): string {
  const d = path.disposition;
  switch (d.kind) {
    case "forwarded":
    case "delivered-locally": {
      const dest = addressText(path.headers.dst);
      return `answer ${serverOf(ipOf(dest))} ${dest} from ${sourceSeen(path)}`;
    }
    case "dropped":
      return d.clientError === undefined || protocol === "tcp" ? "timeout" : `error ${d.clientError}`;
    case "rejected":
      return d.clientError === undefined ? "timeout" : `error ${d.clientError}`;
    case "undecided":
      return `unknown: ${d.reason}`;
    default:
      // The iptables tracer produces no other disposition: anything else is a mismatch to show.
      return `unexpected disposition ${d.kind}`;
  }
}

export function observedKey(r: ProbeResult): string {
  if (r.outcome === "answer") return `answer ${r.server} ${r.destination} from ${ipOf(r.source ?? "?")}`;
  if (r.outcome === "error") return `error ${r.errno}`;
  return "timeout";
}

/**
 * Attempts needed before an outcome the tracer predicts with probability `p` may be called unseen:
 * the chance of missing it in that many independent tries stays below one in a million (40 tries
 * miss a 9% outcome 2% of the time, which made a random suite flaky). At least `floor`, at most 400.
 */
export function attemptsFor(predicted: ReadonlyMap<string, number>, floor: number): number {
  const p = Math.min(...predicted.values());
  if (!(p > 0) || p >= 1) return floor;
  return Math.min(400, Math.max(floor, Math.ceil(Math.log(1e-6) / Math.log(1 - p))));
}
