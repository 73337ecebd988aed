/**
 * The API half of `collect`: writes `cluster/*.json` list by list and keeps the node names. A list
 * that fails is reported and the run goes on; only the node list is required when nodes are
 * collected through pods (without it there is nothing to collect).
 */
import {
  CLUSTER_LISTS,
  type ClusterList,
  CONFIGMAP_LIST,
  discoverEndpointApis,
  type EndpointApis,
  writeClusterList,
} from "./cluster-lists.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import type { KubeApi } from "./kube-api.ts";
import { KubeApiError } from "./kube-api-error.ts";

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
  /** The lists to take (default {@linkcode CLUSTER_LISTS}; see {@linkcode endpointLists}). */
  readonly lists?: readonly ClusterList[];
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
  const base = options.lists ?? CLUSTER_LISTS;
  const wanted: readonly ClusterList[] = [...base, ...(options.configmaps ? [CONFIGMAP_LIST] : [])];
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

/**
 * The lists this cluster serves endpoints in (EndpointSlices v1 or v1beta1, else v1 Endpoints) and
 * what was found, for bundle.json. When the API cannot be reached or refuses the credentials, that
 * is the run's error if the API is `required` (pod collection); otherwise, and for any other
 * failure of the discovery, a warning, and v1 EndpointSlices are listed.
 */
export async function endpointLists(
  api: KubeApi,
  options: {
    readonly required: boolean;
    readonly signal: AbortSignal;
    readonly warn: (message: string) => void;
  },
): Promise<{ lists: readonly ClusterList[]; apis?: EndpointApis }> {
  try {
    return await discoverEndpointApis(api, options.signal);
  } catch (error) {
    const unreachable = error instanceof KubeApiError && (error.status === 0 || error.status === 401);
    if (unreachable && options.required) throw error;
    options.warn(`${errorWords(error)}; listing EndpointSlices discovery.k8s.io/v1`);
    return { lists: CLUSTER_LISTS };
  }
}
