/**
 * The node half of `collect`: every target node into `nodes/NODE/`, a bounded number at a time. A
 * node that fails gets a directory saying why and the run goes on; an error that is not about one
 * node (the disk is full) stops every lane and is returned as `fatal`.
 */
import { type CommandOutcome, createNodeDir, writeNodeFailure, writeNodeResults } from "./bundle-writer.ts";
import type { CollectTargets } from "./collect-targets.ts";
import { NodeCollectError } from "./node-collect-error.ts";
import { runPool } from "./run-pool.ts";

/** How one node went. */
export interface NodeReport {
  readonly node: string;
  /** `ok`: every command ran; `command-failed`: collected, but a command failed on the node (see .err); `failed`: not collected. */
  readonly status: "ok" | "command-failed" | "failed";
  readonly error?: string;
  readonly commands: readonly CommandOutcome[];
}

/** What {@linkcode collectNodes} did. */
export interface NodesOutcome {
  /** Sorted by node name. */
  readonly reports: NodeReport[];
  /** Nodes never started (the run was interrupted or stopped). */
  readonly notStarted: string[];
  /** The error that stopped the run, if one did. */
  readonly fatal?: unknown;
}

/** Options of {@linkcode collectNodes}. */
export interface CollectNodesOptions {
  /** Bundle directory being written. */
  readonly dir: string;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly onProgress?: (done: number, failed: number, total: number) => void;
}

async function collectOne(node: string, targets: CollectTargets, dir: string, signal: AbortSignal) {
  const nodeDir = await createNodeDir(dir, node);
  try {
    const outcomes = await writeNodeResults(nodeDir, await targets.collect(node, nodeDir, signal));
    const bad = outcomes.filter((o) => o.status === "failed");
    if (bad.length === 0) return { node, status: "ok", commands: outcomes } satisfies NodeReport;
    const error = bad.map((o) => `${o.stem} exited with ${o.exit ?? "?"}: ${o.error ?? ""}`).join("; ");
    return { node, status: "command-failed", error, commands: outcomes } satisfies NodeReport;
  } catch (error) {
    if (!(error instanceof NodeCollectError)) throw error;
    await writeNodeFailure(nodeDir, error.message);
    return { node, status: "failed", error: error.message, commands: [] } satisfies NodeReport;
  }
}

/** Collects every target node; see the file comment. */
export async function collectNodes(
  targets: CollectTargets,
  options: CollectNodesOptions,
): Promise<NodesOutcome> {
  const reports: NodeReport[] = [];
  let failed = 0;
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  let fatal: unknown;
  const total = targets.nodes.length;
  options.onProgress?.(0, 0, total);
  const notStarted = await runPool(
    targets.nodes,
    async (node) => {
      let report: NodeReport;
      try {
        report = await collectOne(node, targets, options.dir, signal);
      } catch (error) {
        fatal ??= error;
        stop.abort(error);
        return;
      }
      if (report.status !== "ok") failed++;
      reports.push(report);
      options.onProgress?.(reports.length, failed, total);
    },
    { concurrency: options.concurrency, signal },
  );
  reports.sort((a, b) => a.node.localeCompare(b.node));
  return { reports, notStarted, ...(fatal === undefined ? {} : { fatal }) };
}
