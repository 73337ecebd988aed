/**
 * The host side of a diagnose question: every node's host files, and the iptables rules of the
 * nodes the question's path needs (read in rounds: a path that reaches a node no lookup named, such
 * as a stale conntrack entry's dead pod, brings that node's rules in too).
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DiagnoseQuestion } from "../diagnose/diagnosis-builder.ts";
import { hostPathNodes } from "../diagnose/host-path-facts.ts";
import { resolveQuestion } from "../diagnose/question.ts";
import { HOST_FILES } from "../hostnet/host-evidence.ts";
import { expectedServicePorts } from "../kube-proxy/expected-state.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { readHostEvidence, withRulesOf } from "./read-host-evidence.ts";

const HOST_NAMES = new Set<string>(Object.values(HOST_FILES));
/** The stems of the host commands in collect/node-commands.ts (a failure leaves STEM.err / STEM.exit). */
const HOST_STEMS = new Set([
  "ip-addr",
  "ip-link",
  "ip-route",
  "ip-rule",
  "ip-neigh",
  "bridge-fdb",
  "sysctl",
  "lsmod",
  "flannel-subnet",
  "ethtool-flannel",
  "conntrack",
]);

/**
 * True when some node directory has a host file, or the record of a host command that failed
 * (`ip-route.err`, `.exit`): the bundle was collected by a netdoctor that gathers them.
 */
export async function hasHostEvidence(dir: string, nodeDirs: readonly string[]): Promise<boolean> {
  for (const node of nodeDirs) {
    const names = await readdir(join(dir, "nodes", node)).catch(() => [] as string[]);
    for (const name of names) {
      if (HOST_NAMES.has(name)) return true;
      const stem = name.replace(/\.(err|exit)$/, "");
      if (stem !== name && HOST_STEMS.has(stem)) return true;
    }
  }
  return false;
}

/**
 * Reads the bundle's host side for a diagnose question. Undefined for a bundle collected before
 * netdoctor gathered host files (none of them, and no failed host command, in any node directory):
 * its diagnosis keeps to the client node, as it did then (docs/bundle.md).
 */
export async function readHostPath(
  dir: string,
  question: DiagnoseQuestion,
  bundle: { readonly cluster: ClusterState; readonly nodeDirs: readonly string[] },
): Promise<HostPathInput | undefined> {
  if (!(await hasHostEvidence(dir, bundle.nodeDirs))) return undefined;
  const q = resolveQuestion(bundle.cluster, expectedServicePorts(bundle.cluster), question);
  const client = q.client.nodeName === undefined ? [] : [q.client.nodeName];
  let input = await readHostEvidence(dir, { ...bundle, rulesOf: [], conntrackOf: client });
  // Each round adds at least one node's rules or stops, so this ends within the node count.
  for (;;) {
    const lacking = hostPathNodes(input, q);
    if (lacking.length === 0) return input;
    const more = await withRulesOf(dir, input, lacking);
    if (more === undefined) return input;
    input = more;
  }
}
