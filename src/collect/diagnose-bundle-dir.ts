/**
 * Runs `diagnose` over a bundle directory: reads the API side, then streams one node at a time
 * into the pure {@linkcode DiagnosisBuilder}. Each node's dump is read once: one pass scans it
 * (node health), indexes it (reconciliation) and, for the client node of a question, parses it
 * (the trace).
 */
import { type DiagnoseQuestion, DiagnosisBuilder } from "../diagnose/diagnosis-builder.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { readBundle, readBundleNode } from "./read-bundle.ts";
import { readHostPath } from "./read-host-path.ts";
import { readNodeNft } from "./read-node-nft.ts";

export interface DiagnoseDirOptions {
  /** Called before each node is read (progress on long work). */
  readonly onNode?: (node: string, done: number, total: number) => void;
}

export async function diagnoseBundleDir(
  dir: string,
  question?: DiagnoseQuestion,
  options: DiagnoseDirOptions = {},
): Promise<Diagnosis> {
  const bundle = await readBundle(dir);
  const hostPath =
    question === undefined
      ? undefined
      : await readHostPath(dir, question, { cluster: bundle.cluster, nodeDirs: bundle.nodeDirs });
  const builder = new DiagnosisBuilder(
    {
      cluster: bundle.cluster,
      problems: bundle.problems,
      ...(hostPath === undefined ? {} : { hostPath }),
      ...(bundle.meta.cluster === undefined ? {} : { clusterName: bundle.meta.cluster }),
      ...(bundle.meta.collectedAt === undefined ? {} : { collectedAt: bundle.meta.collectedAt }),
    },
    question,
  );
  let done = 0;
  for (const node of bundle.nodeDirs) {
    options.onNode?.(node, done++, bundle.nodeDirs.length);
    const data = await readBundleNode(dir, node, { ruleset: node === builder.clientNode });
    // The client node's nft ruleset, legacy tables and interfaces: the whole-host trace, and in the
    // full check every node's nftables-mode reconciliation (issue 15).
    const nft = question === undefined || node === builder.clientNode;
    const host = nft ? await readNodeNft(dir, node) : undefined;
    builder.addNode(host === undefined ? data : { ...data, host });
  }
  return builder.finish();
}
