/**
 * The node table's kube-proxy columns: the proxy mode with what shows it, the release range of the
 * iptables rules (era) and kube-proxy's sync health, from a reconciliation when the node was
 * reconciled, else from the same detectors run on their own (a node off the question's path).
 */

import { detectEra, type KubeProxyEra } from "../kube-proxy/kube-proxy-era.ts";
import type { KubeProxyNodeFiles } from "../kube-proxy/kube-proxy-files.ts";
import { type KubeProxyHealth, kubeProxyHealth } from "../kube-proxy/kube-proxy-health.ts";
import type { KubeProxyIndex } from "../kube-proxy/kube-proxy-index.ts";
import { parseKubeProxyMetrics } from "../kube-proxy/kube-proxy-metrics.ts";
import { detectProxyMode, type ProxyModeResult } from "../kube-proxy/proxy-mode.ts";
import type { KubeProxySummary } from "../model/diagnosis.ts";

/** What a reconciliation found about kube-proxy itself (a subset of its result). */
export interface KubeProxyFacts {
  readonly modeEvidence: ProxyModeResult;
  readonly era?: KubeProxyEra;
  readonly health?: KubeProxyHealth;
}

/** The summary of what a reconciliation (or {@linkcode kubeProxyFacts}) found. */
export function kubeProxySummary(facts: KubeProxyFacts): KubeProxySummary {
  const { modeEvidence: m, era, health: h } = facts;
  return {
    mode: m.mode,
    modeReason: m.reason,
    modeEvidence: m.evidence,
    ...(era === undefined ? {} : { era }),
    ...(h === undefined
      ? {}
      : {
          health: {
            summary: h.summary,
            ...(h.syncAgeSeconds === undefined ? {} : { syncAgeSeconds: h.syncAgeSeconds }),
            ...(h.restoreFailures === undefined ? {} : { restoreFailures: h.restoreFailures }),
            canaryMissing: h.canaryMissing,
            evidence: h.evidence,
          },
        }),
  };
}

/**
 * The mode, era and health of a node that was not reconciled, by the detectors reconciliation uses:
 * same evidence, same answer.
 */
export function kubeProxyFacts(
  index: KubeProxyIndex,
  options: {
    readonly node: string;
    readonly file: string;
    readonly files?: KubeProxyNodeFiles;
    readonly collectedAt?: number;
  },
): KubeProxyFacts {
  const ev = options.files ?? {};
  const modeEvidence = detectProxyMode({
    index,
    dumpFile: options.file,
    ...(ev.mode === undefined ? {} : { reported: ev.mode }),
    ...(ev.nftRuleset === undefined ? {} : { nftRuleset: ev.nftRuleset }),
    ...(ev.ipvsadm === undefined ? {} : { ipvsadm: ev.ipvsadm }),
    ...(ev.addresses === undefined ? {} : { addresses: ev.addresses }),
  });
  const health = kubeProxyHealth(options.node, {
    ...(ev.metrics === undefined ? {} : { metrics: parseKubeProxyMetrics(ev.metrics.text, ev.metrics.file) }),
    ...(options.collectedAt === undefined ? {} : { collectedAt: options.collectedAt }),
    index,
    file: options.file,
  });
  return {
    modeEvidence,
    ...(modeEvidence.mode === "iptables" ? { era: detectEra(index, options.file) } : {}),
    ...(health === undefined ? {} : { health }),
  };
}
