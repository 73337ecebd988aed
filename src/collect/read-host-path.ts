/**
 * The host side of a diagnose question: every node's host files, and the iptables rules of the
 * nodes the question's path needs (read in rounds: a path that reaches a node no lookup named, such
 * as a stale conntrack entry's dead pod, brings that node's rules in too).
 */
import type { DiagnosisBuilder } from "../diagnose/diagnosis-builder.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { readHostEvidence, withRulesOf } from "./read-host-evidence.ts";

/** Reads the bundle's host side for `builder`'s question. */
export async function readHostPath(
  dir: string,
  builder: Pick<DiagnosisBuilder, "pathNodesLacking">,
  bundle: { readonly cluster: ClusterState; readonly nodeDirs: readonly string[] },
): Promise<HostPathInput> {
  let input = await readHostEvidence(dir, { ...bundle, rulesOf: [] });
  // Each round adds at least one node's rules or stops, so this ends within the node count.
  for (;;) {
    const lacking = builder.pathNodesLacking(input);
    if (lacking.length === 0) return input;
    const more = await withRulesOf(dir, input, lacking);
    if (more === undefined) return input;
    input = more;
  }
}
