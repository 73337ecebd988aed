/**
 * The result of walking one packet through a node's rules (issue: netdoctor trace).
 * Probabilistic jumps split a trace into several paths whose probabilities sum to 1.
 */
import type { TableName } from "./ruleset.ts";

export type Protocol = "tcp" | "udp" | "sctp" | "icmp";

/** Where the packet enters the node: from a pod interface, or from a hostNetwork process. */
export type Ingress = "pod" | "host";

/** A packet as the simulator sees it. */
export interface Packet {
  readonly protocol: Protocol;
  readonly srcIp: string;
  readonly srcPort?: number;
  readonly dstIp: string;
  /** Absent for ICMP. */
  readonly dstPort?: number;
}

/** forward: routed on to `destination`; local: delivered to the node itself. */
export type Disposition = "forward" | "local" | "drop" | "reject" | "unknown";

/** One rule that matched (or a chain policy that applied) on the way. */
export interface TraceStep {
  readonly table: TableName;
  readonly chain: string;
  /** 1-indexed dump line of the rule or of the chain declaration for a policy. */
  readonly line: number;
  /** The rule text (`-A ...`) or the chain declaration for a policy. */
  readonly rule: string;
  /** What happened, in words: `jump KUBE-SVC-X`, `DNAT to 10.42.1.9:80`, `policy ACCEPT`. */
  readonly action: string;
}

export interface TracePath {
  readonly probability: number;
  readonly disposition: Disposition;
  /** The packet's destination after all rewrites, `ip:port` (or `ip` for ICMP). */
  readonly destination: string;
  /** The source after SNAT/MASQUERADE when known. */
  readonly source?: string;
  readonly rejectWith?: string;
  /** The errno a connecting client sees, e.g. ECONNREFUSED, EHOSTUNREACH. */
  readonly clientError?: string;
  readonly masquerade: boolean;
  /** Final packet mark, hex. */
  readonly mark?: string;
  /** Why the disposition is what it is; always set for `unknown`. */
  readonly reason?: string;
  readonly steps: readonly TraceStep[];
}

export interface TraceResult {
  readonly packet: Packet;
  readonly from: Ingress;
  readonly paths: readonly TracePath[];
}
