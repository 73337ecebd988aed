import { isNotFound } from "./admission-error.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, RUN_ID_LABEL } from "./collector-pod.ts";
import type { KubeApi } from "./kube-api.ts";

/** Result of {@linkcode deleteCollectorPods}. */
export interface CleanupResult {
  readonly deleted: readonly string[];
  /** Pods that could not be deleted, with the reason. */
  readonly failed: readonly string[];
}

/**
 * Deletes collector pods by label: those of one run (`runId`), or every pod netdoctor created in
 * the namespace (`collect --cleanup`). Only pods carrying netdoctor's managed-by label are touched.
 */
export async function deleteCollectorPods(
  api: KubeApi,
  options: { namespace: string; runId?: string },
): Promise<CleanupResult> {
  const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}${options.runId ? `,${RUN_ID_LABEL}=${options.runId}` : ""}`;
  let names: string[];
  try {
    const list = await api.core.listNamespacedPod({ namespace: options.namespace, labelSelector: selector });
    names = list.items.map((p) => p.metadata?.name ?? "").filter((n) => n !== "");
  } catch (error) {
    throw api.error(`list collector pods in namespace "${options.namespace}"`, error);
  }
  const deleted: string[] = [];
  const failed: string[] = [];
  for (const name of names) {
    try {
      await api.core.deleteNamespacedPod({ name, namespace: options.namespace, gracePeriodSeconds: 0 });
      deleted.push(name);
    } catch (error) {
      if (isNotFound(api.error("delete", error))) continue;
      failed.push(`${options.namespace}/${name}: ${api.error(`delete pod ${name}`, error).message}`);
    }
  }
  return { deleted, failed };
}
