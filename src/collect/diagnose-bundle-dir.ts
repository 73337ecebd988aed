/**
 * Runs `diagnose` over a bundle directory: reads the API side (the large lists in workers, while
 * the main thread reads the client's node: read-lists.ts), then streams one node at a time
 * into the pure {@linkcode DiagnosisBuilder}. Each node's dump is read once: one pass scans it
 * (node health) and indexes it (reconciliation) or, for the nodes a question's path crosses, parses
 * it, and that one parse serves the host path, the trace and reconciliation (its index is read
 * from the parse: kube-proxy/ruleset-index.ts).
 */
import { type DiagnoseQuestion, DiagnosisBuilder } from "../diagnose/diagnosis-builder.ts";
import { QuestionError } from "../diagnose/question-error.ts";
import { findPod } from "../diagnose/resolve-target.ts";
import type { Pod } from "../model/cluster.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { type Bundle, type BundleNode, readBundle, readBundleNode } from "./read-bundle.ts";
import { readHostPath } from "./read-host-path.ts";
import type { ReadListsOptions } from "./read-lists.ts";
import { ipsetsOf, type ReadNodeParts, readNetpolEvidence } from "./read-netpol-evidence.ts";
import { readNetworkPolicyState } from "./read-network-policies.ts";
import { type NodeNftEvidence, readNodeNft } from "./read-node-nft.ts";

export interface DiagnoseDirOptions {
  /** Called before each node is read (progress on long work). */
  readonly onNode?: (node: string, done: number, total: number) => void;
  /** Where the bundle's large API lists are read (default: in workers when they are large). */
  readonly lists?: ReadListsOptions;
}

/** The node as the loop reads it: its parse only when the loop asks for it (`keep`). */
function withoutRuleset(data: BundleNode, keep: boolean): BundleNode {
  if (keep || data.ruleset === undefined) return data;
  const { ruleset: _parsed, ...rest } = data;
  return rest;
}

/**
 * The nft evidence of the nodes whose rules the question's path needs (the endpoint's node), for
 * the host-firewall link; the client's own is read with its dump below.
 */
async function readPathNft(
  dir: string,
  hostPath: HostPathInput,
  nodeDirs: readonly string[],
): Promise<Map<string, NodeNftEvidence>> {
  const out = new Map<string, NodeNftEvidence>();
  for (const node of hostPath.rulesets.keys())
    if (nodeDirs.includes(node)) out.set(node, await readNodeNft(dir, node));
  return out;
}

/** The node of the question's client pod; undefined when there is none (the question says why, later). */
function clientNodeOf(pods: readonly Pod[], question: DiagnoseQuestion | undefined): string | undefined {
  if (question === undefined) return undefined;
  try {
    return findPod({ pods }, question.from, question.namespace).nodeName;
  } catch (error) {
    if (error instanceof QuestionError) return undefined;
    throw error;
  }
}

/**
 * Reads the bundle. While workers read its large lists, the main thread starts on the client's
 * node, which is read with its parse in any case (the trace needs it; issue 14); a failure of that
 * read is thrown where the diagnosis awaits it, after the bundle's own errors, as before.
 */
function readBundleFor(
  dir: string,
  context: {
    readonly question: DiagnoseQuestion | undefined;
    readonly readEarly: (node: string) => Promise<BundleNode>;
    readonly lists: ReadListsOptions | undefined;
  },
): Promise<Bundle> {
  const { question, readEarly, lists } = context;
  return readBundle(dir, {
    ...(lists === undefined ? {} : { lists }),
    onPods: (pods, { nodeDirs, workers }) => {
      const node = clientNodeOf(pods, question);
      if (workers && node !== undefined && nodeDirs.includes(node)) readEarly(node).catch(() => {});
    },
  });
}

export async function diagnoseBundleDir(
  dir: string,
  question?: DiagnoseQuestion,
  options: DiagnoseDirOptions = {},
): Promise<Diagnosis> {
  // Nodes whose rules the host path needs are read then, in full and with their parse, once: the
  // node loop takes that reading over instead of reading the dump again (issue 14).
  const early = new Map<string, Promise<BundleNode>>();
  const readEarly = (node: string): Promise<BundleNode> => {
    let read = early.get(node);
    if (read === undefined) early.set(node, (read = readBundleNode(dir, node, { ruleset: true })));
    return read;
  };
  const bundle = await readBundleFor(dir, { question, readEarly, lists: options.lists });
  const hostPath =
    question === undefined
      ? undefined
      : await readHostPath(dir, question, {
          cluster: bundle.cluster,
          nodeDirs: bundle.nodeDirs,
          readRules: async (node) => (await readEarly(node)).ruleset,
        });
  const pathHosts = hostPath === undefined ? undefined : await readPathNft(dir, hostPath, bundle.nodeDirs);
  const builder = new DiagnosisBuilder(
    {
      cluster: bundle.cluster,
      problems: bundle.problems,
      ...(hostPath === undefined ? {} : { hostPath }),
      ...(pathHosts === undefined ? {} : { pathHosts }),
      ...(bundle.meta.cluster === undefined ? {} : { clusterName: bundle.meta.cluster }),
      ...(bundle.meta.collectedAt === undefined ? {} : { collectedAt: bundle.meta.collectedAt }),
    },
    question,
  );
  let done = 0;
  const policy = question === undefined ? undefined : await readNetworkPolicyState(dir);
  const policyNodes = new Set((policy?.state.policies?.length ?? 0) > 0 ? builder.policyNodes : []);
  const known = new Map<string, ReadNodeParts>();
  for (const node of bundle.nodeDirs) {
    options.onNode?.(node, done++, bundle.nodeDirs.length);
    const isClient = node === builder.clientNode;
    // A node whose NetworkPolicy rules the question meets is parsed in the same pass, with its ipsets.
    const parts = isClient || policyNodes.has(node);
    // With a question every node is parsed too: a node off the path is only summed up (kube-proxy's
    // mode, era and health), which its index answers from the parse reading a few chains, where the
    // rule-by-rule index of the full check would index every rule; the parse goes with the node.
    const data = withoutRuleset(
      (await early.get(node)) ?? (await readBundleNode(dir, node, { ruleset: question !== undefined })),
      parts,
    );
    early.delete(node);
    const ipsets = parts ? await ipsetsOf(dir, node) : undefined;
    if (policyNodes.has(node))
      known.set(node, {
        ...(data.ruleset === undefined ? {} : { ruleset: data.ruleset }),
        ...(ipsets === undefined ? {} : { ipsets }),
      });
    // The client node's nft ruleset, legacy tables and interfaces: the whole-host trace, and in the
    // full check every node's nftables-mode reconciliation (issue 15).
    const host = question === undefined || isClient ? await readNodeNft(dir, node) : undefined;
    builder.addNode({
      ...data,
      ...(isClient && ipsets !== undefined ? { ipsets } : {}),
      ...(host === undefined ? {} : { host }),
    });
  }
  return builder.finish(
    question === undefined
      ? undefined
      : await readNetpolEvidence(dir, {
          nodes: [...policyNodes],
          nodeDirs: bundle.nodeDirs,
          known,
          ...(policy === undefined ? {} : { policy }),
        }),
  );
}
