/**
 * Runs `diagnose` over a bundle directory: reads the API side, then streams one node at a time
 * (scan + index in one pass; the client node's dump is also parsed for the trace) into the pure
 * {@linkcode DiagnosisBuilder}.
 */
import { join } from "node:path";
import { type DiagnoseQuestion, DiagnosisBuilder } from "../diagnose/diagnosis-builder.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { CollectError } from "./collect-error.ts";
import { readBundle, readBundleNode } from "./read-bundle.ts";
import { readDump } from "./read-dump.ts";
import { ipsetsOf, type ReadNodeParts, readNetpolEvidence } from "./read-netpol-evidence.ts";

export interface DiagnoseDirOptions {
  /** Called before each node is read (progress on long work). */
  readonly onNode?: (node: string, done: number, total: number) => void;
}

/** The client node's rules for the trace; a dump that became unreadable meanwhile gives none. */
async function readClientDump(path: string): Promise<Ruleset | undefined> {
  try {
    return await readDump(path, { lazy: true });
  } catch (error) {
    if (error instanceof CollectError || error instanceof DumpSyntaxError) return undefined;
    throw error;
  }
}

export async function diagnoseBundleDir(
  dir: string,
  question?: DiagnoseQuestion,
  options: DiagnoseDirOptions = {},
): Promise<Diagnosis> {
  const bundle = await readBundle(dir);
  const builder = new DiagnosisBuilder(
    {
      cluster: bundle.cluster,
      problems: bundle.problems,
      ...(bundle.meta.cluster === undefined ? {} : { clusterName: bundle.meta.cluster }),
      ...(bundle.meta.collectedAt === undefined ? {} : { collectedAt: bundle.meta.collectedAt }),
    },
    question,
  );
  let done = 0;
  const known = new Map<string, ReadNodeParts>();
  for (const node of bundle.nodeDirs) {
    options.onNode?.(node, done++, bundle.nodeDirs.length);
    const data = await readBundleNode(dir, node);
    const isClient = node === builder.clientNode;
    const ruleset =
      isClient && data.index !== undefined
        ? await readClientDump(join(dir, "nodes", node, "iptables-save.txt"))
        : undefined;
    const ipsets = isClient ? await ipsetsOf(dir, node) : undefined;
    if (isClient)
      known.set(node, {
        ...(ruleset === undefined ? {} : { ruleset }),
        ...(ipsets === undefined ? {} : { ipsets }),
      });
    builder.addNode({
      ...data,
      ...(ruleset === undefined ? {} : { ruleset }),
      ...(ipsets === undefined ? {} : { ipsets }),
    });
  }
  return builder.finish(
    question === undefined
      ? undefined
      : await readNetpolEvidence(dir, { nodes: builder.policyNodes, nodeDirs: bundle.nodeDirs, known }),
  );
}
