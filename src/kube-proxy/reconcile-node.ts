/**
 * Compares one node's kube-proxy rules with what the API says they must be. Services are found by
 * recomputed chain names and ClusterIP:port matches, never by comments (they may be absent).
 * First the node's proxy mode is decided from evidence: only iptables mode is reconciled; for any
 * other mode the answer is `undecided` with the reason, and no missing-rules finding is made.
 */
import type { NodeKind } from "../findings/kube-proxy-restart.ts";
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import { leftovers } from "./chain-leftovers.ts";
import type { TopologyNode } from "./endpoint-choices.ts";
import type { ExpectedServicePort } from "./expected-state.ts";
import { choiceEra, detectEra, type KubeProxyEra } from "./kube-proxy-era.ts";
import type { KubeProxyNodeFiles } from "./kube-proxy-files.ts";
import { type KubeProxyHealth, kubeProxyHealth } from "./kube-proxy-health.ts";
import type { KubeProxyIndex } from "./kube-proxy-index.ts";
import { parseKubeProxyMetrics } from "./kube-proxy-metrics.ts";
import { NodeView } from "./node-view.ts";
import { checkPort, type PortCheck } from "./port-check.ts";
import { detectProxyMode, type ProxyMode, type ProxyModeResult } from "./proxy-mode.ts";

export type { ExternalCheck, PortCheck } from "./port-check.ts";

export interface ReconcileOptions {
  readonly node: string;
  /** Bundle-relative path of the node's dump. */
  readonly file: string;
  /** Only these service ports (svcPortName); node-wide checks (leftover chains) are skipped then. */
  readonly only?: ReadonlySet<string>;
  /** Who owns an IP now, e.g. `pod eopx/x-1`, for messages about stale targets. */
  readonly ownerOfIp?: (ip: string) => string | undefined;
  /** What runs kube-proxy on the node (k3s server/agent, RKE2, kubeadm), for the restart advice. */
  readonly nodeKind?: NodeKind;
  /** The node's label `topology.kubernetes.io/zone`, for topology-aware hints. */
  readonly zone?: string;
  /** kube-proxy's metrics and mode files and the other mode evidence of the node. */
  readonly evidence?: KubeProxyNodeFiles;
  /** When the bundle was collected (ms since the epoch, from bundle.json), to age kube-proxy's last sync. */
  readonly collectedAt?: number;
}

export interface ReconcileResult {
  readonly findings: Finding[];
  readonly checks: Map<string, PortCheck>;
  /** How the node proxies Services. */
  readonly mode: ProxyMode;
  /** The mode with the lines that show it. */
  readonly modeEvidence: ProxyModeResult;
  /**
   * Set when the node's rules cannot be checked (a proxy mode netdoctor does not analyse, or no
   * evidence of any): why, and what would decide it. There are no missing-rules findings then.
   */
  readonly undecided?: string;
  /** The kube-proxy version range the iptables rules were written by. */
  readonly era?: KubeProxyEra;
  /** kube-proxy's sync health, when its metrics or canary chains say something. */
  readonly health?: KubeProxyHealth;
}

const MAX_LISTED = 10;

function undecidedReason(node: string, mode: ProxyModeResult): string {
  switch (mode.mode) {
    case "ipvs":
      return `Node "${node}" runs kube-proxy in IPVS mode (${mode.reason}); netdoctor does not compare IPVS virtual servers with the API yet: check \`ipvsadm -Ln\` on the node against the Service's endpoints`;
    case "nftables":
      return `Node "${node}" runs kube-proxy in nftables mode (${mode.reason}); its rules are not checked here: collect \`nft list table ip kube-proxy\``;
    case "none":
      return `Node "${node}" has no kube-proxy rules (${mode.reason}); Services are handled by a replacement whose state netdoctor cannot read from iptables`;
    case "unknown":
      return `Cannot tell how node "${node}" proxies Services: ${mode.reason}; collect kube-proxy's answer with \`curl -s 127.0.0.1:10249/proxyMode\` on the node (nodes/${node}/kube-proxy-mode.txt)`;
    case "iptables":
      return "";
    default: {
      const never: never = mode.mode;
      return never;
    }
  }
}

function undefinedJumpFindings(
  index: KubeProxyIndex,
  opts: ReconcileOptions,
  reported: Set<number | undefined>,
): Finding[] {
  return index.undefinedJumps
    .slice(0, MAX_LISTED)
    .filter((j) => !reported.has(j.line))
    .map((j) =>
      makeFinding(
        "chain-undefined",
        {
          node: opts.node,
          ...(opts.nodeKind === undefined ? {} : { nodeKind: opts.nodeKind }),
          chain: j.target,
          table: j.table,
        },
        { node: opts.node, evidence: [{ file: opts.file, line: j.line, text: j.text }] },
      ),
    );
}

/**
 * Reconciles a node: stale and missing endpoints on the ClusterIP and external paths (including
 * the contents of the Local-policy chains), missing or rejecting service entries, jumps to
 * undeclared chains and leftover chains — or `undecided` for a proxy mode it does not analyse.
 *
 * @example
 * ```ts
 * const r = reconcileNode(expectedServicePorts(cluster), index, { node: "node2", file: "nodes/node2/iptables-save.txt" });
 * r.mode; // "iptables"
 * r.findings.map((f) => f.code); // ["endpoint-stale", ...]
 * ```
 */
export function reconcileNode(
  ports: readonly ExpectedServicePort[],
  index: KubeProxyIndex,
  opts: ReconcileOptions,
): ReconcileResult {
  const ev = opts.evidence ?? {};
  const modeEvidence = detectProxyMode({
    index,
    dumpFile: opts.file,
    ...(ev.mode === undefined ? {} : { reported: ev.mode }),
    ...(ev.nftRuleset === undefined ? {} : { nftRuleset: ev.nftRuleset }),
    ...(ev.ipvsadm === undefined ? {} : { ipvsadm: ev.ipvsadm }),
    ...(ev.addresses === undefined ? {} : { addresses: ev.addresses }),
  });
  const health = kubeProxyHealth(opts.node, {
    ...(ev.metrics === undefined ? {} : { metrics: parseKubeProxyMetrics(ev.metrics.text, ev.metrics.file) }),
    ...(opts.collectedAt === undefined ? {} : { collectedAt: opts.collectedAt }),
    index,
    file: opts.file,
  });
  const base = {
    mode: modeEvidence.mode,
    modeEvidence,
    ...(health === undefined ? {} : { health }),
  };
  const checks = new Map<string, PortCheck>();
  if (modeEvidence.mode !== "iptables") {
    // Dump integrity still holds whatever the mode; Service findings would be guesses.
    const findings = opts.only === undefined ? undefinedJumpFindings(index, opts, new Set()) : [];
    return { ...base, findings, checks, undecided: undecidedReason(opts.node, modeEvidence) };
  }
  const era = detectEra(index, opts.file);
  const topology: TopologyNode = { name: opts.node, ...(opts.zone === undefined ? {} : { zone: opts.zone }) };
  const ctx = {
    node: opts.node,
    file: opts.file,
    view: new NodeView(index, { few: opts.only !== undefined }),
    topology,
    era: choiceEra(era),
    ...(opts.ownerOfIp === undefined ? {} : { ownerOfIp: opts.ownerOfIp }),
    ...(opts.nodeKind === undefined ? {} : { nodeKind: opts.nodeKind }),
    ...(health === undefined ? {} : { health }),
  };
  const findings: Finding[] = [];
  for (const sp of ports) {
    if (opts.only !== undefined && !opts.only.has(sp.svcPortName)) continue;
    const { check, findings: found } = checkPort(ctx, sp);
    checks.set(sp.svcPortName, check);
    findings.push(...found);
  }
  if (opts.only === undefined) {
    const reported = new Set(
      findings.filter((f) => f.code === "chain-undefined").map((f) => f.evidence[0]?.line),
    );
    findings.push(...undefinedJumpFindings(index, opts, reported));
    findings.push(...leftovers(index, ports, opts));
  }
  return { ...base, findings, checks, era };
}
