/**
 * Which nodes `collect` visits and how: through a collector pod per node (the names come from the
 * API's node list) or over SSH (the names come from the inventory), narrowed by `--nodes` and
 * `--selector`.
 */
import { readFile } from "node:fs/promises";
import { CollectError } from "./collect-error.ts";
import { itemName } from "./collect-lists.ts";
import { DEFAULT_IMAGE } from "./collector-pod.ts";
import type { CommandResult } from "./command-result.ts";
import { errorWords } from "./errno-words.ts";
import { type InventoryNode, readInventory } from "./inventory.ts";
import type { KubeApi } from "./kube-api.ts";
import { collectNodeViaPod } from "./pod-node-collector.ts";
import { collectNodeViaSsh } from "./ssh-node-collector.ts";

/** Collects one node into `dir`. */
export type NodeCollector = (node: string, dir: string, signal: AbortSignal) => Promise<CommandResult[]>;

/** The nodes to collect and the way to collect each. */
export interface CollectTargets {
  readonly nodes: readonly string[];
  readonly collect: NodeCollector;
}

/** The part of `collect`'s options that picks and reaches nodes. */
export interface TargetOptions {
  readonly nodes?: readonly string[];
  readonly selector?: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** What SSH collection needs before the run: the inventory and the known_hosts text. */
export interface SshSetup {
  readonly file: string;
  readonly nodes: readonly InventoryNode[];
  readonly knownHosts: string;
  readonly insecureIgnoreHostKey: boolean;
}

/**
 * Reads the inventory and its known_hosts (unless host keys are not checked).
 *
 * @throws {CollectError} When either cannot be read.
 */
export async function readSshSetup(file: string, insecureIgnoreHostKey: boolean): Promise<SshSetup> {
  const inventory = await readInventory(file);
  let knownHosts = "";
  if (!insecureIgnoreHostKey) {
    try {
      knownHosts = await readFile(inventory.knownHosts, "utf8");
    } catch (error) {
      throw new CollectError(
        `Cannot read known_hosts "${inventory.knownHosts}": ${errorWords(error)} (set knownHosts in the inventory)`,
      );
    }
  }
  return { file, nodes: inventory.nodes, knownHosts, insecureIgnoreHostKey };
}

function pickNodes(all: readonly string[], wanted: readonly string[] | undefined, where: string): string[] {
  if (wanted === undefined || wanted.length === 0) return [...all];
  const known = new Set(all);
  const missing = wanted.filter((n) => !known.has(n));
  if (missing.length > 0)
    throw new CollectError(`Cannot find node ${missing.map((m) => `"${m}"`).join(", ")} in ${where}`);
  return [...new Set(wanted)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function selectedNodeNames(api: KubeApi, selector: string, signal: AbortSignal): Promise<Set<string>> {
  const list = await api.getJson(`/api/v1/nodes?${new URLSearchParams({ labelSelector: selector })}`, {
    action: `list nodes with selector "${selector}"`,
    signal,
  });
  const items: unknown[] = isRecord(list) && Array.isArray(list.items) ? list.items : [];
  return new Set(items.map((item) => (isRecord(item) ? itemName(item) : "")).filter((n) => n !== ""));
}

async function narrow(names: string[], api: KubeApi | undefined, options: TargetOptions): Promise<string[]> {
  if (options.selector === undefined) return names;
  if (api === undefined) throw new CollectError("Cannot use --selector without access to the Kubernetes API");
  const selected = await selectedNodeNames(api, options.selector, options.signal);
  return names.filter((n) => selected.has(n));
}

/** The inventory's nodes, collected over SSH. */
export async function sshTargets(
  ssh: SshSetup,
  api: KubeApi | undefined,
  options: TargetOptions,
): Promise<CollectTargets> {
  const byName = new Map(ssh.nodes.map((n) => [n.name, n]));
  const picked = pickNodes([...byName.keys()], options.nodes, `the inventory "${ssh.file}"`);
  return {
    nodes: await narrow(picked, api, options),
    collect: (node, dir, signal) => {
      const target = byName.get(node);
      if (target === undefined) throw new TypeError(`Cannot collect node "${node}": not in the inventory`);
      return collectNodeViaSsh(target, {
        knownHosts: ssh.knownHosts,
        insecureIgnoreHostKey: ssh.insecureIgnoreHostKey,
        timeoutMs: options.timeoutMs,
        signal,
        dir,
      });
    },
  };
}

/** Options of {@linkcode podTargets}. */
export interface PodTargetOptions extends TargetOptions {
  readonly namespace: string;
  readonly image?: string;
  readonly runId: string;
  readonly onPod?: (event: "created" | "deleted" | "delete-failed", name: string) => void;
}

/** The cluster's nodes (as listed), each collected through a short-lived pod. */
export async function podTargets(
  api: KubeApi,
  clusterNodes: readonly string[],
  options: PodTargetOptions,
): Promise<CollectTargets> {
  const picked = pickNodes(clusterNodes, options.nodes, "the cluster");
  return {
    nodes: await narrow(picked, api, options),
    collect: (node, dir, signal) =>
      collectNodeViaPod(node, {
        api,
        namespace: options.namespace,
        image: options.image ?? DEFAULT_IMAGE,
        runId: options.runId,
        timeoutMs: options.timeoutMs,
        signal,
        dir,
        ...(options.onPod ? { onPod: options.onPod } : {}),
      }),
  };
}
