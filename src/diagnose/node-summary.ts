/** One row of the node table: counts, versions, known bugs and kube-proxy's mode, era and health. */
import { knownBugIds } from "../known-bugs/known-bugs.ts";
import type { NodeEvidence } from "../known-bugs/node-evidence.ts";
import type { KubeProxyNodeFiles } from "../kube-proxy/kube-proxy-files.ts";
import type { KubeProxyIndex } from "../kube-proxy/kube-proxy-index.ts";
import type { NodeSummary } from "../model/diagnosis.ts";
import { type KubeProxyFacts, kubeProxyFacts, kubeProxySummary } from "./kube-proxy-summary.ts";

/** What else is known about the node besides its evidence. */
export interface NodeSummaryInput {
  /** Bundle-relative path of the node's dump. */
  readonly file: string;
  /** The node's reconciliation, when it ran (it decides the mode with the same evidence). */
  readonly reconciled?: KubeProxyFacts;
  readonly index?: KubeProxyIndex;
  readonly kubeProxyFiles?: KubeProxyNodeFiles;
  /** bundle.json's `collectedAt` (ISO-8601), to age kube-proxy's last sync. */
  readonly collectedAt?: string;
}

/** The node table's row for a node. */
export function nodeSummary(ev: NodeEvidence, input: NodeSummaryInput): NodeSummary {
  const collectedAt = input.collectedAt === undefined ? Number.NaN : Date.parse(input.collectedAt);
  const facts =
    input.reconciled ??
    (input.index === undefined
      ? undefined
      : kubeProxyFacts(input.index, {
          node: ev.node,
          file: input.file,
          ...(input.kubeProxyFiles === undefined ? {} : { files: input.kubeProxyFiles }),
          ...(Number.isNaN(collectedAt) ? {} : { collectedAt }),
        }));
  return {
    node: ev.node,
    file: input.file,
    readable: ev.scan !== undefined,
    rules: ev.scan?.rules ?? 0,
    chains: ev.scan?.chains ?? 0,
    duplicateRules: ev.scan?.duplicates.extraRules ?? 0,
    ...(ev.scan === undefined ? {} : { header: ev.scan.header }),
    ...(ev.iptablesVersion === undefined ? {} : { iptablesVersion: ev.iptablesVersion.text.trim() }),
    knownBugs: knownBugIds(ev),
    ...(facts === undefined ? {} : { kubeProxy: kubeProxySummary(facts) }),
  };
}
