/**
 * Reads a bundle's host network evidence and API side into what src/hostnet needs (the lab's
 * stand-in for the bundle reader's future host-network part): every node's parsed files, the
 * flannel view of the nodes, live pod placements, and each node's iptables ruleset.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readBundle } from "../collect/read-bundle.ts";
import { type FlannelNode, flannelNode, nodeExtrasFromJson } from "../hostnet/flannel-node.ts";
import { HOST_FILES, type HostEvidence, parseHostEvidence } from "../hostnet/host-evidence.ts";
import { type PodPlacement, podPlacements } from "../hostnet/pod-placement.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { parseDump } from "../parse/parse-dump.ts";

export interface HostBundle {
  readonly dir: string;
  readonly cluster: ClusterState;
  readonly hosts: ReadonlyMap<string, HostEvidence>;
  readonly nodes: readonly FlannelNode[];
  readonly pods: readonly PodPlacement[];
  readonly rulesets: ReadonlyMap<string, Ruleset>;
}

async function optional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Reads `dir` (a netdoctor bundle) for the cross-node checks and the path evaluator. */
export async function readHostBundle(dir: string): Promise<HostBundle> {
  const bundle = await readBundle(dir);
  const extras = nodeExtrasFromJson((await optional(join(dir, "cluster", "nodes.json"))) ?? "");
  const hosts = new Map<string, HostEvidence>();
  const rulesets = new Map<string, Ruleset>();
  for (const node of bundle.nodeDirs) {
    const files: Record<string, string> = {};
    for (const name of Object.values(HOST_FILES)) {
      const text = await optional(join(dir, "nodes", node, name));
      if (text !== undefined) files[name] = text;
    }
    hosts.set(node, parseHostEvidence(files, { node, dir: `nodes/${node}` }));
    const dump = await optional(join(dir, "nodes", node, "iptables-save.txt"));
    if (dump !== undefined) rulesets.set(node, parseDump(dump));
  }
  const nodes = bundle.cluster.nodes.map((n) => {
    const x = extras.get(n.metadata.name);
    return flannelNode(n, { file: "cluster/nodes.json", ...(x === undefined ? {} : { extras: x }) });
  });
  return {
    dir,
    cluster: bundle.cluster,
    hosts,
    nodes,
    pods: podPlacements(bundle.cluster, { file: "cluster/pods.json" }),
    rulesets,
  };
}
