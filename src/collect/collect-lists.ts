/**
 * The API half of `collect`: writes `cluster/*.json` list by list and keeps the node names. A list
 * that fails is reported and the run goes on; only the node list is required when nodes are
 * collected through pods (without it there is nothing to collect).
 */
import { CLUSTER_LISTS, type ClusterList, CONFIGMAP_LIST, writeClusterList } from "./cluster-lists.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import type { KubeApi } from "./kube-api.ts";

/** How one list went: its item count, or why it is missing. */
export interface ListOutcome {
  readonly file: string;
  readonly items?: number;
  readonly error?: string;
}

/** Options of {@linkcode collectClusterLists}. */
export interface CollectListsOptions {
  /** Bundle directory being written. */
  readonly dir: string;
  readonly configmaps: boolean;
  /** The node list is required (pod collection needs it): its failure is thrown. */
  readonly nodesRequired: boolean;
  /** Per-list budget; at least 30 s so a slow API is not cut short. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly warn: (message: string) => void;
}

/** `metadata.name` of a list item, or "" when it has none. */
export function itemName(item: Readonly<Record<string, unknown>>): string {
  const metadata = item.metadata;
  if (metadata === null || typeof metadata !== "object") return "";
  const name = (metadata as { readonly name?: unknown }).name;
  return typeof name === "string" ? name : "";
}

/** Writes every cluster list; returns the outcomes and the names of the nodes listed. */
export async function collectClusterLists(
  api: KubeApi,
  options: CollectListsOptions,
): Promise<{ lists: ListOutcome[]; nodeNames: string[] }> {
  const lists: ListOutcome[] = [];
  const nodeNames: string[] = [];
  const wanted: readonly ClusterList[] = [...CLUSTER_LISTS, ...(options.configmaps ? [CONFIGMAP_LIST] : [])];
  for (const list of wanted) {
    const isNodes = list.kind === "Node";
    try {
      const items = await writeClusterList(api, list, {
        out: options.dir,
        // One budget per list, so an API that stops answering cannot hang the run.
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(Math.max(options.timeoutMs, 30_000))]),
        ...(isNodes ? { onItem: (item: Record<string, unknown>) => nodeNames.push(itemName(item)) } : {}),
      });
      lists.push({ file: `cluster/${list.file}`, items });
    } catch (error) {
      if (isNodes && options.nodesRequired) throw error;
      if (options.signal.aborted) break;
      const message =
        error instanceof CollectError
          ? error.message
          : `Cannot write cluster/${list.file}: ${errorWords(error)}`;
      lists.push({ file: `cluster/${list.file}`, error: message });
      options.warn(message);
    }
  }
  return { lists, nodeNames: nodeNames.filter((n) => n !== "") };
}
