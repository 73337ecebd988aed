/**
 * netdoctor's answer for one lab connection, in the lab's words: the product's composition
 * (src/trace/connection-answer.ts over src/collect/read-host-evidence.ts) asked about the probe's
 * packet, reduced to the key the kernel's outcome is compared with (overlay-lab-probe.ts).
 */
import type { ConnectionResult } from "../hostnet/path-types.ts";
import type { Packet } from "../model/trace.ts";
import {
  answerConnection,
  type ConnectionAnswer,
  type ConnectionBranch,
} from "../trace/connection-answer.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";

export interface LabQuestion {
  /** Client pod name. */
  readonly from: string;
  readonly protocol: "tcp" | "udp";
  readonly dstIp: string;
  readonly dstPort: number;
  readonly srcPort?: number;
  readonly payload?: number;
}

export interface LabAnswer {
  /** `answer POD`, `error ERRNO`, `timeout` or `unknown` (comparable with labOutcomeKey). */
  readonly key: string;
  readonly reason?: string;
  /** The evaluation across nodes (the lab's questions have one branch, and reach the evaluator). */
  readonly connection: ConnectionResult;
  /** How the destination was decided before routing: `conntrack`, `nat` or `none`. */
  readonly rewrite: ConnectionBranch["rewrite"];
  readonly answer: ConnectionAnswer;
}

/** The client pod's placement (by pod name, any namespace). */
export function labClient(b: HostPathInput, from: string): { node: string; ip: string; pod: string } {
  const client = b.pods.find((p) => p.pod.endsWith(`/${from}`));
  if (client === undefined) throw new RangeError(`Cannot find pod "${from}" in the bundle`);
  return client;
}

/**
 * Answers a lab question from the bundle.
 *
 * @example
 * ```ts
 * labAnswer(await readHostEvidence(dir), { from: "a1", protocol: "tcp", dstIp: "198.18.2.10", dstPort: 8080 }).key;
 * // "answer b1"
 * ```
 */
export function labAnswer(b: HostPathInput, q: LabQuestion): LabAnswer {
  const client = labClient(b, q.from);
  const packet: Packet = {
    protocol: q.protocol,
    srcIp: client.ip,
    dstIp: q.dstIp,
    dstPort: q.dstPort,
    ...(q.srcPort === undefined ? {} : { srcPort: q.srcPort }),
  };
  const answer = answerConnection(b, {
    node: client.node,
    ingress: "pod",
    packet,
    ...(q.payload === undefined ? {} : { payload: q.payload }),
  });
  if (answer.branches.length !== 1)
    throw new RangeError(`${answer.branches.length} branches for one lab probe`);
  const branch = answer.branches[0]!;
  const connection = branch.connection;
  if (connection === undefined)
    throw new RangeError(`the client node's rules end the path: ${branch.clientTrace?.disposition.kind}`);
  let key: string;
  switch (connection.outcome) {
    case "delivered": {
      const owner = b.pods.find((p) => p.ip === branch.routed.dstIp);
      key = `answer ${owner?.pod.split("/")[1] ?? branch.routed.dstIp}`;
      break;
    }
    case "error":
      key = `error ${connection.clientError ?? "?"}`;
      break;
    default:
      key = connection.outcome;
  }
  return {
    key,
    ...(connection.reason === undefined ? {} : { reason: connection.reason }),
    connection,
    rewrite: branch.rewrite,
    answer,
  };
}
