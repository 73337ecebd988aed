import { randomBytes } from "node:crypto";
import { createBundleLayout, DIR_MODE, writeBundleJson } from "./bundle-writer.ts";
import { deleteCollectorPods } from "./cleanup-pods.ts";
import type { ClusterList } from "./cluster-lists.ts";
import { CollectError } from "./collect-error.ts";
import { collectClusterLists, endpointLists, type ListOutcome } from "./collect-lists.ts";
import { collectNodes, type NodeReport, type NodesOutcome } from "./collect-nodes.ts";
import {
  type CollectTargets,
  podTargets,
  readSshSetup,
  type SshSetup,
  sshTargets,
} from "./collect-targets.ts";
import { errorWords } from "./errno-words.ts";
import { KubeApi, type KubeTarget, kubeconfigAvailable } from "./kube-api.ts";
import { checkOutDir, StagedDir } from "./staged-dir.ts";

export type { ListOutcome, NodeReport };

/** Options of {@linkcode collectBundle} (the `collect` command's flags). */
export interface CollectOptions extends KubeTarget {
  /** The bundle directory: must be absent or empty; it appears only when the run ends. */
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
  /** Run id label value (random by default); also names the staging directory (see staged-dir.ts). */
  readonly runId?: string;
}

/** What `collect` did: the command's JSON output. */
export interface CollectSummary {
  readonly out: string;
  readonly cluster: string;
  readonly collectedAt: string;
  readonly via: "pod" | "ssh";
  readonly runId: string;
  readonly lists: readonly ListOutcome[];
  readonly nodes: readonly NodeReport[];
  /** Nodes that never started because the run was interrupted. */
  readonly notStarted: readonly string[];
  /** True when the run was interrupted: then nothing was written to `out`. */
  readonly interrupted: boolean;
  /** Collector pods that could not be deleted (run `collect --cleanup`). */
  readonly leftoverPods: readonly string[];
}

/** The API client, or none when SSH collection runs without a kubeconfig (with a warning). */
function loadApi(options: CollectOptions, warn: (message: string) => void): KubeApi | undefined {
  if (options.via === "pod" || options.kubeconfig !== undefined) return KubeApi.load(options);
  if (!kubeconfigAvailable(options)) {
    warn(
      "no kubeconfig found: writing the bundle without cluster/*.json (diagnose needs them; add them by hand)",
    );
    return undefined;
  }
  try {
    return KubeApi.load(options);
  } catch (error) {
    warn(`${errorWords(error)}; writing the bundle without cluster/*.json`);
    return undefined;
  }
}

/** Deletes whatever pods of the run are left (a create that landed after its node gave up). */
async function sweepPods(
  api: KubeApi,
  namespace: string,
  runId: string,
  warn: (m: string) => void,
): Promise<readonly string[]> {
  const budget = AbortSignal.timeout(30_000);
  const sweep = deleteCollectorPods(api, { namespace, runId });
  const timedOut = new Promise<never>((_, reject) =>
    budget.addEventListener("abort", () =>
      reject(
        new CollectError(
          `Cannot finish deleting the collector pods of run ${runId}: the API did not answer in 30s`,
        ),
      ),
    ),
  );
  try {
    return (await Promise.race([sweep, timedOut])).failed;
  } catch (error) {
    warn(`${errorWords(error)}; check for leftovers with \`netdoctor collect --cleanup\``);
    return [];
  }
}

interface Run {
  readonly options: CollectOptions;
  readonly dir: string;
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly warn: (message: string) => void;
}

/** The cluster lists, then the nodes; returns what happened without publishing anything. */
async function collectInto(
  run: Run,
  api: KubeApi | undefined,
  ssh: SshSetup | undefined,
  clusterLists: readonly ClusterList[] | undefined,
) {
  const { options, dir, signal, warn } = run;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { lists, nodeNames } =
    api === undefined
      ? { lists: [], nodeNames: [] }
      : await collectClusterLists(api, {
          dir,
          ...(clusterLists === undefined ? {} : { lists: clusterLists }),
          configmaps: options.configmaps ?? false,
          nodesRequired: options.via === "pod",
          timeoutMs,
          signal,
          warn,
        });
  const base = {
    ...(options.nodes === undefined ? {} : { nodes: options.nodes }),
    ...(options.selector === undefined ? {} : { selector: options.selector }),
    timeoutMs,
    signal,
  };
  let targets: CollectTargets;
  if (ssh !== undefined) targets = await sshTargets(ssh, api, base);
  else if (api !== undefined) {
    const podOptions = { ...base, namespace: options.namespace ?? "kube-system", runId: run.runId };
    targets = await podTargets(api, nodeNames, {
      ...podOptions,
      ...(options.image === undefined ? {} : { image: options.image }),
      ...(options.onPod === undefined ? {} : { onPod: options.onPod }),
    });
  } else throw new TypeError("Cannot collect through pods without an API client");
  if (targets.nodes.length === 0) warn("no node matched: the bundle has no nodes/ data");
  const nodes = await collectNodes(targets, {
    dir,
    concurrency: options.concurrency ?? 10,
    signal,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  return { lists, nodes };
}

/**
 * Collects a bundle from a live cluster: the cluster lists through the API, then every selected
 * node through a collector pod (or SSH), with bounded concurrency and a per-node timeout. Nodes that
 * fail get a directory with the reason and the run goes on; collector pods are always deleted.
 * Everything is written into a staging sibling of `out` that is renamed to `out` at the end, or
 * removed when the run fails or is interrupted: `out` never holds half a bundle.
 *
 * @throws {CollectError} When `out` cannot be written, there is no usable kubeconfig (pod
 *   collection), the inventory cannot be read (SSH), or the node list cannot be read.
 */
export async function collectBundle(options: CollectOptions): Promise<CollectSummary> {
  const signal = options.signal ?? new AbortController().signal;
  const warn = options.onWarning ?? (() => undefined);
  const runId = options.runId ?? randomBytes(4).toString("hex");
  const collectedAt = new Date().toISOString();
  if (options.via === "ssh" && options.inventory === undefined)
    throw new CollectError("Cannot collect over SSH: --inventory FILE is required");
  // Before anything is contacted: a retry into the same place must fail fast.
  await checkOutDir(options.out, "the bundle");
  const ssh =
    options.inventory === undefined || options.via !== "ssh"
      ? undefined
      : await readSshSetup(options.inventory, options.insecureIgnoreHostKey ?? false);
  const api = loadApi(options, warn);
  const staged = await StagedDir.create(options.out, { id: runId, what: "the bundle", mode: DIR_MODE });
  let outcome: { lists: ListOutcome[]; nodes: NodesOutcome };
  let leftoverPods: readonly string[] = [];
  // Only a run that created pods needs the sweep (and its warnings when the API is gone).
  let podsCreated = false;
  const onPod: CollectOptions["onPod"] = (event, name) => {
    if (event === "created") podsCreated = true;
    options.onPod?.(event, name);
  };
  try {
    // Which endpoint objects this cluster serves (EndpointSlices v1 / v1beta1, else v1 Endpoints).
    const endpoints =
      api === undefined
        ? undefined
        : await endpointLists(api, { required: options.via === "pod", signal, warn });
    await createBundleLayout(staged.path);
    await writeBundleJson(staged.path, {
      cluster: api?.clusterName ?? "unknown",
      collectedAt,
      ...(endpoints?.apis === undefined ? {} : { endpointApis: endpoints.apis }),
    });
    const run = { options: { ...options, onPod }, dir: staged.path, runId, signal, warn };
    outcome = await collectInto(run, api, ssh, endpoints?.lists);
  } catch (error) {
    await staged.discard();
    throw error;
  } finally {
    if (podsCreated && api !== undefined)
      leftoverPods = await sweepPods(api, options.namespace ?? "kube-system", runId, warn);
  }
  const { fatal } = outcome.nodes;
  if (fatal !== undefined || signal.aborted) await staged.discard();
  if (fatal !== undefined) {
    if (fatal instanceof CollectError) throw fatal;
    throw new CollectError(`Cannot write the bundle to "${options.out}": ${errorWords(fatal)}`, {
      cause: fatal,
    });
  }
  if (!signal.aborted) await staged.commit();
  return {
    out: options.out,
    cluster: api?.clusterName ?? "unknown",
    collectedAt,
    via: options.via,
    runId,
    lists: outcome.lists,
    nodes: outcome.nodes.reports,
    notStarted: outcome.nodes.notStarted,
    interrupted: signal.aborted,
    leftoverPods,
  };
}
