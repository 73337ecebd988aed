/**
 * The host side of a diagnose question: every node's host files, and the iptables rules of the
 * nodes the question's path needs (read in rounds: a path that reaches a node no lookup named, such
 * as a stale conntrack entry's dead pod, brings that node's rules in too).
 */
import type { DiagnoseQuestion } from "../diagnose/diagnosis-builder.ts";
import { hostPathNodes } from "../diagnose/host-path-facts.ts";
import { resolveQuestion } from "../diagnose/question.ts";
import { ExpectedPorts } from "../kube-proxy/expected-ports.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { type ReadNodeRules, readHostEvidence, withRulesOf } from "./read-host-evidence.ts";

/**
 * Reads the bundle's host side for a diagnose question. A bundle without host files (collected
 * before netdoctor gathered them, or by hand) is read all the same: every file counts as missing, so
 * the route, overlay and endpoint-node links say undecided with the file and the command that makes
 * it, never reachable on a path nobody looked at (docs/bundle.md).
 */
export async function readHostPath(
  dir: string,
  question: DiagnoseQuestion,
  bundle: {
    readonly cluster: ClusterState;
    readonly nodeDirs: readonly string[];
    /** Reads a node's parsed dump (default: a parse of its own). */
    readonly readRules?: ReadNodeRules;
  },
): Promise<HostPathInput> {
  const q = resolveQuestion(bundle.cluster, new ExpectedPorts(bundle.cluster), question);
  const client = q.client.nodeName === undefined ? [] : [q.client.nodeName];
  const { readRules, ...lists } = bundle;
  let input = await readHostEvidence(dir, { ...lists, rulesOf: [], conntrackOf: client });
  // Each round adds at least one node's rules or stops, so this ends within the node count.
  for (;;) {
    const lacking = hostPathNodes(input, q);
    if (lacking.length === 0) return input;
    const more = await withRulesOf(dir, input, lacking, readRules);
    if (more === undefined) return input;
    input = more;
  }
}
