import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  type CommandOutcome,
  checkNodeName,
  createBundleDir,
  createNodeDir,
  writeBundleJson,
  writeNodeFailure,
  writeNodeResults,
} from "./bundle-writer.ts";
import { deleteCollectorPods } from "./cleanup-pods.ts";
import {
  CLUSTER_LISTS,
  type ClusterList,
  CONFIGMAP_LIST,
  discoverEndpointApis,
  type EndpointApis,
  writeClusterList,
} from "./cluster-lists.ts";
import { CollectError } from "./collect-error.ts";
import { DEFAULT_IMAGE } from "./collector-pod.ts";
import type { CommandResult } from "./command-result.ts";
import { type InventoryNode, readInventory } from "./inventory.ts";
import { KubeApi, type KubeTarget, kubeconfigAvailable } from "./kube-api.ts";
import { NodeCollectError } from "./node-collect-error.ts";
import { collectNodeViaPod } from "./pod-node-collector.ts";
import { runPool } from "./run-pool.ts";
import { collectNodeViaSsh } from "./ssh-node-collector.ts";

/** Options of {@linkcode collectBundle} (the `collect` command's flags). */
export interface CollectOptions extends KubeTarget {
  readonly out: string;
  readonly via: "pod" | "ssh";
  /** Only these nodes (`--nodes a,b`). */
  readonly nodes?: readonly string[];
  /** Label selector for nodes (`--selector`), evaluated by the API server. */
  readonly selector?: string;
  readonly inventory?: string;
  readonly insecureIgnoreHostKey?: boolean;
  readonly image?: string;
  /** Namespace of the collector pods. */
  readonly namespace?: string;
  readonly concurrency?: number;
  /** Per-node budget. */
  readonly timeoutMs?: number;
  readonly configmaps?: boolean;
  /** Aborts the run (Ctrl-C): running nodes stop, their pods are deleted, no new node starts. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, failed: number, total: number) => void;
  readonly onWarning?: (message: string) => void;
  /** Pod lifecycle, for callers that track what may be left behind. */
  readonly onPod?: (event: "created" | "deleted" | "delete-failed", name: string) => void;
  /** Run id label value (random by default). */
  readonly runId?: string;
}

/** How one node went. */
export interface NodeReport {
  readonly node: string;
  /** `ok`: every command ran; `command-failed`: collected, but a command failed on the node (see .err); `failed`: not collected. */
  readonly status: "ok" | "command-failed" | "failed";
  readonly error?: string;
  readonly commands: readonly CommandOutcome[];
}

/** What `collect` did: the command's JSON output. */
export interface CollectSummary {
  readonly out: string;
  readonly cluster: string;
  readonly collectedAt: string;
  readonly via: "pod" | "ssh";
  readonly runId: string;
  readonly lists: readonly { file: string; items?: number; error?: string }[];
  readonly nodes: readonly NodeReport[];
  /** Nodes that never started because the run was interrupted. */
  readonly notStarted: readonly string[];
  readonly interrupted: boolean;
  /** Collector pods that could not be deleted (run `collect --cleanup`). */
  readonly leftoverPods: readonly string[];
}

/** Rejects with `message` when `promise` takes longer than `ms`; the timer never outlives the promise. */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CollectError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type NodeCollector = (node: string, dir: string, signal: AbortSignal) => Promise<CommandResult[]>;

function pickNodes(all: readonly string[], wanted: readonly string[] | undefined, where: string): string[] {
  if (wanted === undefined || wanted.length === 0) return [...all];
  const known = new Set(all);
  const missing = wanted.filter((n) => !known.has(n));
  if (missing.length > 0)
    throw new CollectError(`Cannot find node ${missing.map((m) => `"${m}"`).join(", ")} in ${where}`);
  return [...new Set(wanted)];
}

async function selectedNodeNames(api: KubeApi, selector: string, signal: AbortSignal): Promise<Set<string>> {
  const list = (await api.getJson(`/api/v1/nodes?${new URLSearchParams({ labelSelector: selector })}`, {
    action: `list nodes with selector "${selector}"`,
    signal,
  })) as { items?: { metadata?: { name?: string } }[] };
  return new Set((list.items ?? []).map((n) => n.metadata?.name ?? "").filter((n) => n !== ""));
}

/**
 * Collects a bundle from a live cluster: the cluster lists through the API, then every selected
 * node through a collector pod (or SSH), with bounded concurrency and a per-node timeout. Nodes that
 * fail get a directory with the reason and the run goes on; collector pods are always deleted.
 */
export async function collectBundle(options: CollectOptions): Promise<CollectSummary> {
  const signal = options.signal ?? new AbortController().signal;
  const warn = options.onWarning ?? (() => undefined);
  const runId = options.runId ?? randomBytes(4).toString("hex");
  const namespace = options.namespace ?? "kube-system";
  const timeoutMs = options.timeoutMs ?? 60_000;
  const collectedAt = new Date().toISOString();

  let inventory: InventoryNode[] | undefined;
  let knownHosts = "";
  if (options.via === "ssh") {
    if (options.inventory === undefined)
      throw new CollectError("Cannot collect over SSH: --inventory FILE is required");
    const inv = await readInventory(options.inventory);
    inventory = [...inv.nodes];
    if (!options.insecureIgnoreHostKey) {
      try {
        knownHosts = await readFile(inv.knownHosts, "utf8");
      } catch (error) {
        throw new CollectError(
          `Cannot read known_hosts "${inv.knownHosts}": ${(error as NodeJS.ErrnoException).code} (set knownHosts in the inventory)`,
        );
      }
    }
  }
  let api: KubeApi | undefined;
  if (options.via === "pod" || kubeconfigAvailable(options)) {
    try {
      api = KubeApi.load(options);
    } catch (error) {
      if (options.via === "pod" || options.kubeconfig !== undefined) throw error;
      warn(`${(error as Error).message}; writing the bundle without cluster/*.json`);
    }
  } else {
    warn(
      "no kubeconfig found: writing the bundle without cluster/*.json (diagnose needs them; add them by hand)",
    );
  }

  // Which endpoint objects this cluster serves (EndpointSlices v1 / v1beta1, else v1 Endpoints).
  let clusterLists: readonly ClusterList[] = CLUSTER_LISTS;
  let endpointApis: EndpointApis | undefined;
  if (api !== undefined) {
    try {
      ({ lists: clusterLists, apis: endpointApis } = await discoverEndpointApis(api, signal));
    } catch (error) {
      warn(`${(error as Error).message}; listing EndpointSlices discovery.k8s.io/v1`);
    }
  }

  await createBundleDir(options.out);
  await writeBundleJson(options.out, {
    cluster: api?.clusterName ?? "unknown",
    collectedAt,
    ...(endpointApis === undefined ? {} : { endpointApis }),
  });

  const lists: { file: string; items?: number; error?: string }[] = [];
  const clusterNodes: string[] = [];
  if (api !== undefined) {
    for (const list of [...clusterLists, ...(options.configmaps ? [CONFIGMAP_LIST] : [])]) {
      try {
        const items = await writeClusterList(api, list, {
          out: options.out,
          // One budget per list, so an API that stops answering cannot hang the run.
          signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(timeoutMs, 30_000))]),
          ...(list.kind === "Node"
            ? {
                onItem: (item) =>
                  clusterNodes.push(String((item.metadata as { name?: unknown })?.name ?? "")),
              }
            : {}),
        });
        lists.push({ file: `cluster/${list.file}`, items });
      } catch (error) {
        if (list.kind === "Node" && options.via === "pod") throw error;
        if (signal.aborted) break;
        lists.push({ file: `cluster/${list.file}`, error: (error as Error).message });
        warn((error as Error).message);
      }
    }
  }

  let targets: string[];
  let collector: NodeCollector;
  if (inventory !== undefined) {
    const byName = new Map(inventory.map((n) => [n.name, n]));
    targets = pickNodes([...byName.keys()], options.nodes, `the inventory "${options.inventory}"`);
    if (options.selector !== undefined) {
      if (api === undefined)
        throw new CollectError("Cannot use --selector without access to the Kubernetes API");
      const selected = await selectedNodeNames(api, options.selector, signal);
      targets = targets.filter((n) => selected.has(n));
    }
    collector = (node, dir, sig) =>
      collectNodeViaSsh(byName.get(node) as InventoryNode, {
        knownHosts,
        insecureIgnoreHostKey: options.insecureIgnoreHostKey ?? false,
        timeoutMs,
        signal: sig,
        dir,
      });
  } else {
    const podApi = api as KubeApi;
    targets = pickNodes(clusterNodes, options.nodes, "the cluster");
    if (options.selector !== undefined) {
      const selected = await selectedNodeNames(podApi, options.selector, signal);
      targets = targets.filter((n) => selected.has(n));
    }
    collector = (node, dir, sig) =>
      collectNodeViaPod(node, {
        api: podApi,
        namespace,
        image: options.image ?? DEFAULT_IMAGE,
        runId,
        timeoutMs,
        signal: sig,
        dir,
        ...(options.onPod ? { onPod: options.onPod } : {}),
      });
  }
  if (targets.length === 0) warn("no node matched: the bundle has no nodes/ data");
  for (const node of targets) checkNodeName(node);

  const reports: NodeReport[] = [];
  let failed = 0;
  // A fatal error in one lane (say, the disk is full) stops the others, and still gets the sweep below.
  const stop = new AbortController();
  const runSignal = AbortSignal.any([signal, stop.signal]);
  let fatal: unknown;
  options.onProgress?.(0, 0, targets.length);
  const notStarted = await runPool(
    targets,
    async (node) => {
      let report: NodeReport;
      try {
        const dir = await createNodeDir(options.out, node);
        try {
          const outcomes = await writeNodeResults(dir, await collector(node, dir, runSignal));
          const bad = outcomes.filter((o) => o.status === "failed");
          report = {
            node,
            status: bad.length === 0 ? "ok" : "command-failed",
            ...(bad.length === 0
              ? {}
              : {
                  error: bad
                    .map((o) => `${o.stem} exited with ${o.exit ?? "?"}: ${o.error ?? ""}`)
                    .join("; "),
                }),
            commands: outcomes,
          };
        } catch (error) {
          if (!(error instanceof NodeCollectError)) throw error;
          await writeNodeFailure(dir, error.message);
          report = { node, status: "failed", error: error.message, commands: [] };
        }
      } catch (error) {
        fatal ??= error;
        stop.abort(error);
        return;
      }
      if (report.status !== "ok") failed++;
      reports.push(report);
      options.onProgress?.(reports.length, failed, targets.length);
    },
    { concurrency: options.concurrency ?? 10, signal: runSignal },
  );

  const leftoverPods: string[] = [];
  if (options.via === "pod" && api !== undefined) {
    // Belt and braces: a create that landed after its node gave up is found by the run's label.
    try {
      const sweep = await withTimeout(
        deleteCollectorPods(api, { namespace, runId }),
        30_000,
        `Cannot finish deleting the collector pods of run ${runId}: the API did not answer in 30s`,
      );
      leftoverPods.push(...sweep.failed);
    } catch (error) {
      warn(`${(error as Error).message}; check for leftovers with \`netdoctor collect --cleanup\``);
    }
  }
  if (fatal !== undefined) {
    if (fatal instanceof Error && !(fatal instanceof CollectError)) {
      throw new CollectError(`Cannot write the bundle in "${options.out}": ${fatal.message}`, {
        cause: fatal,
      });
    }
    throw fatal;
  }
  reports.sort((a, b) => a.node.localeCompare(b.node));
  return {
    out: options.out,
    cluster: api?.clusterName ?? "unknown",
    collectedAt,
    via: options.via,
    runId,
    lists,
    nodes: reports,
    notStarted,
    interrupted: signal.aborted,
    leftoverPods,
  };
}
