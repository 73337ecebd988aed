import { setTimeout as sleep } from "node:timers/promises";
import type { V1Pod } from "@kubernetes/client-node";
import { explainPodCreateError, isNotFound } from "./admission-error.ts";
import { COLLECTOR_CONTAINER, collectorPod } from "./collector-pod.ts";
import type { CommandResult } from "./command-result.ts";
import { readFrames } from "./frame-reader.ts";
import type { KubeApi } from "./kube-api.ts";
import { KubeApiError } from "./kube-api-error.ts";
import { NodeCollectError } from "./node-collect-error.ts";

/** Options of {@linkcode collectNodeViaPod}. */
export interface PodCollectOptions {
  readonly api: KubeApi;
  readonly namespace: string;
  readonly image: string;
  readonly runId: string;
  /** Whole budget for this node: create, start, run, read the log. */
  readonly timeoutMs: number;
  /** Aborts everything (Ctrl-C); the pod is still deleted. */
  readonly signal: AbortSignal;
  /** Node directory for temp files. */
  readonly dir: string;
  /** Called when a pod may exist and when it is confirmed deleted (the CLI tracks leftovers). */
  readonly onPod?: (event: "created" | "deleted" | "delete-failed", name: string) => void;
}

/** Waiting reasons that will not fix themselves before the timeout. */
const HOPELESS = new Set(["InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"]);

function describePod(pod: V1Pod): string {
  const phase = pod.status?.phase ?? "Pending";
  const cs = pod.status?.containerStatuses?.[0];
  const waiting = cs?.state?.waiting;
  if (waiting?.reason) return `${phase}, ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
  const term = cs?.state?.terminated;
  if (term) return `${phase}, container ${term.reason ?? "terminated"} with exit code ${term.exitCode}`;
  const cond = pod.status?.conditions?.find((c) => c.status === "False" && c.message);
  if (cond) return `${phase}, ${cond.reason ?? cond.type}: ${cond.message}`;
  if (pod.status?.reason)
    return `${phase}, ${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ""}`;
  return phase;
}

async function readPod(options: PodCollectOptions, name: string, signal: AbortSignal): Promise<V1Pod> {
  try {
    return await abortable(
      options.api.core.readNamespacedPod({ name, namespace: options.namespace }),
      signal,
    );
  } catch (error) {
    if (signal.aborted) throw error;
    throw new NodeCollectError(options.api.error(`read pod ${options.namespace}/${name}`, error).message);
  }
}

/** Polls until the container has started (or already ended): from then on its log can be followed. */
async function waitForStart(options: PodCollectOptions, name: string, signal: AbortSignal): Promise<V1Pod> {
  let delay = 250;
  for (;;) {
    const pod = await readPod(options, name, signal);
    const phase = pod.status?.phase;
    if (phase === "Running" || phase === "Succeeded" || phase === "Failed") return pod;
    const reason = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
    if (reason !== undefined && HOPELESS.has(reason)) {
      throw new NodeCollectError(`pod ${options.namespace}/${name} cannot start: ${describePod(pod)}`);
    }
    lastSeen.set(name, describePod(pod));
    await sleep(delay, undefined, { signal });
    delay = Math.min(Math.round(delay * 1.5), 1000); // at most one read per second per running pod
  }
}

/** Last status seen per pod, for the timeout message ("was Pending, ImagePullBackOff: ..."). */
const lastSeen = new Map<string, string>();

/** A delete that does not answer within this long counts as failed (the final sweep retries it). */
const DELETE_TIMEOUT_MS = 15_000;

async function deletePod(options: PodCollectOptions, name: string): Promise<void> {
  try {
    await abortable(
      options.api.core.deleteNamespacedPod({ name, namespace: options.namespace, gracePeriodSeconds: 0 }),
      AbortSignal.timeout(DELETE_TIMEOUT_MS),
    );
  } catch (error) {
    const e = options.api.error(`delete pod ${options.namespace}/${name}`, error);
    if (!isNotFound(e)) throw e;
  }
  options.onPod?.("deleted", name);
}

/**
 * Collects one node through a short-lived privileged pod pinned to it, and always deletes the pod
 * (success, failure, timeout, abort). Returns the command results; throws
 * {@linkcode NodeCollectError} with a per-node reason when the node could not be collected.
 */
export async function collectNodeViaPod(node: string, options: PodCollectOptions): Promise<CommandResult[]> {
  const body = collectorPod({
    runId: options.runId,
    node,
    namespace: options.namespace,
    image: options.image,
  });
  const name = body.metadata?.name ?? "";
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  let creating: Promise<unknown> | undefined;
  let mayExist = false;
  try {
    if (signal.aborted) throw signal.reason;
    mayExist = true;
    options.onPod?.("created", name);
    creating = options.api.core.createNamespacedPod({ namespace: options.namespace, body });
    try {
      await abortable(creating, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const e = options.api.error(`create pod ${options.namespace}/${name}`, error);
      if (e.status >= 400) mayExist = false; // the API refused it: nothing to delete
      throw new NodeCollectError(e.status >= 400 ? explainPodCreateError(e, options.namespace) : e.message);
    }
    const pod = await waitForStart(options, name, signal);
    lastSeen.set(name, describePod(pod));
    // Follow the log while the container runs: the output streams to disk as it is produced and the
    // kubelet's follow survives its log rotation, which a read after the end would not.
    let res: AsyncIterable<Buffer>;
    try {
      res = await options.api.get(
        `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods/${encodeURIComponent(name)}/log?container=${COLLECTOR_CONTAINER}&follow=true`,
        { action: `read the log of pod ${options.namespace}/${name}`, signal },
      );
    } catch (error) {
      if (signal.aborted) throw error;
      throw new NodeCollectError(`${(error as Error).message} (pod ${describePod(pod)})`);
    }
    try {
      return await readFrames(res, { dir: options.dir, source: `pod ${options.namespace}/${name}` });
    } catch (error) {
      if (signal.aborted) throw error;
      // Say how the container ended (OOMKilled, exit code) when that explains a cut log.
      const now = await readPod(options, name, signal).catch(() => pod);
      const phase = now.status?.phase;
      const state = phase === "Failed" || phase === "Succeeded" ? ` (pod ${describePod(now)})` : "";
      throw new NodeCollectError(`${(error as Error).message}${state}`);
    }
  } catch (error) {
    if (timeout.aborted && !options.signal.aborted) {
      const seen = lastSeen.get(name);
      throw new NodeCollectError(
        `timed out after ${options.timeoutMs / 1000}s (pod ${options.namespace}/${name}${seen ? ` was ${seen}` : " was not created in time"})`,
      );
    }
    if (options.signal.aborted) throw new NodeCollectError("interrupted");
    if (error instanceof NodeCollectError) throw error;
    if (error instanceof KubeApiError) throw new NodeCollectError(error.message);
    throw error;
  } finally {
    lastSeen.delete(name);
    if (mayExist) {
      // A create still in flight may land after our delete; wait for it (bounded) so the delete sees the pod.
      if (creating !== undefined)
        await Promise.race([creating.catch(() => undefined), sleep(10_000, undefined, { ref: false })]);
      try {
        await deletePod(options, name);
      } catch {
        // The run's final sweep by label retries; the CLI names any pod still left.
        options.onPod?.("delete-failed", name);
      }
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
