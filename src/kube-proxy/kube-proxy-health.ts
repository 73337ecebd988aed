/**
 * Whether kube-proxy on a node is syncing, from its own metrics and its canary chains: the
 * evidence a stale-rules finding quotes ("kube-proxy on node2 last synced 7 minutes ago, 3
 * restore failures"). The collection time is passed in: the core never reads the clock.
 */
import type { Evidence } from "../model/finding.ts";
import type { TableName } from "../model/ruleset.ts";
import type { KubeProxyIndex } from "./kube-proxy-index.ts";
import { KUBE_PROXY_METRIC, type KubeProxyMetrics, metricSample } from "./kube-proxy-metrics.ts";

/** kube-proxy (v1.17+) keeps an empty KUBE-PROXY-CANARY chain in these tables to notice flushes (PR #81517). */
export const CANARY_TABLES: readonly TableName[] = ["mangle", "nat", "filter"];

export interface KubeProxyHealth {
  readonly node: string;
  /** Unix seconds of the last successful sync, from the metrics. */
  readonly lastSync?: number;
  /** Unix seconds when the last sync was queued. */
  readonly lastQueued?: number;
  readonly restoreFailures?: number;
  readonly partialRestoreFailures?: number;
  /** Seconds between the last sync and the collection. */
  readonly syncAgeSeconds?: number;
  /** Seconds a queued sync had been waiting at collection (queued after the last sync). */
  readonly pendingSeconds?: number;
  /** Why the metrics are missing, when the collector says kube-proxy did not answer. */
  readonly unreachable?: string;
  /** Tables of {@linkcode CANARY_TABLES} whose canary chain is absent although the dump has kube-proxy chains. */
  readonly canaryMissing: readonly TableName[];
  /** One sentence for findings, e.g. `kube-proxy on "node2" last synced 7 minutes ago (at collection), 0 restore failures`. */
  readonly summary: string;
  readonly evidence: readonly Evidence[];
}

/** `42 seconds`, `7 minutes`, `3 hours`, `2 days`: enough precision for a person. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const unit = (n: number, u: string) => `${n} ${u}${n === 1 ? "" : "s"}`;
  if (s < 120) return unit(s, "second");
  if (s < 2 * 3600) return unit(Math.round(s / 60), "minute");
  if (s < 2 * 86400) return unit(Math.round(s / 3600), "hour");
  return unit(Math.round(s / 86400), "day");
}

function canaryState(index: KubeProxyIndex | undefined, file: string | undefined) {
  const missing: TableName[] = [];
  const evidence: Evidence[] = [];
  if (index === undefined || !(index.chains.get("nat")?.has("KUBE-SERVICES") ?? false))
    return { missing, evidence };
  for (const table of CANARY_TABLES) {
    const line = index.chains.get(table)?.get("KUBE-PROXY-CANARY");
    if (line === undefined) missing.push(table);
    else if (file !== undefined && evidence.length === 0)
      evidence.push({ file, line, text: `:KUBE-PROXY-CANARY - [0:0] (table ${table})` });
  }
  // No canary anywhere: kube-proxy older than v1.17, or a dump of some tables only. Only a canary
  // present in one table and gone from another proves a flush after kube-proxy's last run.
  if (missing.length === CANARY_TABLES.length) return { missing: [], evidence: [] };
  return { missing, evidence };
}

/**
 * The sync health of kube-proxy on `node`, or undefined when there is no evidence at all.
 *
 * @param options.collectedAt When the bundle was collected (ms since the epoch, from bundle.json).
 */
export function kubeProxyHealth(
  node: string,
  options: {
    readonly metrics?: KubeProxyMetrics;
    readonly collectedAt?: number;
    readonly index?: KubeProxyIndex;
    /** The dump's bundle-relative path, for canary evidence. */
    readonly file?: string;
  },
): KubeProxyHealth | undefined {
  const { metrics, collectedAt } = options;
  const canary = canaryState(options.index, options.file);
  if (metrics === undefined && canary.missing.length === 0) return undefined;
  const evidence: Evidence[] = [];
  const read = (name: string) => {
    const s = metrics === undefined ? undefined : metricSample(metrics, name);
    if (s !== undefined && metrics !== undefined)
      evidence.push({ file: metrics.file, line: s.line, text: s.text });
    return s?.value;
  };
  const lastSync = read(KUBE_PROXY_METRIC.lastSync);
  const lastQueued = read(KUBE_PROXY_METRIC.lastQueued);
  const restoreFailures = read(KUBE_PROXY_METRIC.restoreFailures);
  const partialRestoreFailures = read(KUBE_PROXY_METRIC.partialRestoreFailures);
  const note = metrics?.notes[0];
  if (note !== undefined && metrics !== undefined)
    evidence.push({ file: metrics.file, line: note.line, text: note.text });
  const now = collectedAt === undefined ? undefined : collectedAt / 1000;
  const syncAgeSeconds =
    now !== undefined && lastSync !== undefined && lastSync > 0 ? now - lastSync : undefined;
  const pendingSeconds =
    now !== undefined && lastQueued !== undefined && lastSync !== undefined && lastQueued > lastSync
      ? now - lastQueued
      : undefined;
  const parts: string[] = [];
  if (lastSync !== undefined && lastSync > 0) {
    parts.push(
      syncAgeSeconds === undefined
        ? `last synced at ${new Date(lastSync * 1000).toISOString()}`
        : `last synced ${formatDuration(syncAgeSeconds)} ago (at collection)`,
    );
  } else if (lastSync !== undefined) parts.push("has never completed a sync");
  if (restoreFailures !== undefined) {
    const total = restoreFailures + (partialRestoreFailures ?? 0);
    parts.push(`${total} restore failure${total === 1 ? "" : "s"}`);
  }
  if (pendingSeconds !== undefined)
    parts.push(`a sync queued ${formatDuration(pendingSeconds)} before collection has not run`);
  if (note !== undefined && parts.length === 0)
    parts.push(`gave no metrics (${note.text.replace(/^#\s*netdoctor:\s*/, "")})`);
  if (canary.missing.length > 0)
    parts.push(
      `its KUBE-PROXY-CANARY chain is missing from ${canary.missing.join(", ")} (flushed since kube-proxy last ran)`,
    );
  evidence.push(...canary.evidence);
  return {
    node,
    ...(lastSync === undefined ? {} : { lastSync }),
    ...(lastQueued === undefined ? {} : { lastQueued }),
    ...(restoreFailures === undefined ? {} : { restoreFailures }),
    ...(partialRestoreFailures === undefined ? {} : { partialRestoreFailures }),
    ...(syncAgeSeconds === undefined ? {} : { syncAgeSeconds }),
    ...(pendingSeconds === undefined ? {} : { pendingSeconds }),
    ...(note === undefined ? {} : { unreachable: note.text }),
    canaryMissing: canary.missing,
    summary: parts.length === 0 ? "" : `kube-proxy on "${node}" ${parts.join(", ")}`,
    evidence,
  };
}
