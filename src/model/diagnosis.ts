/**
 * The result of `netdoctor diagnose` (its JSON contract, documented in docs/findings.md#the-verdict).
 * Renderers (text, JSON, YAML, HTML) take this and nothing else.
 */
import type { Evidence, Finding } from "./finding.ts";
import type { DumpHeader } from "./ruleset.ts";
import type { TraceResult } from "./trace.ts";

/** The checks of a `--from/--to` walk, in the order they run. */
export type CheckName =
  | "bundle"
  | "dns"
  | "service"
  | "endpoints"
  | "client-node"
  | "host-firewall"
  | "network-policy"
  | "node-dataplane"
  /** The client node routes and forwards the packet (ip route, sysctls, FORWARD). */
  | "route"
  /** The overlay between the nodes (neighbour, FDB, VXLAN, the underlay, decapsulation). */
  | "overlay"
  /** The endpoint's node routes, forwards and delivers it, and the reply comes back. */
  | "endpoint-node"
  | "node-health"
  | "config";

/**
 * What the evidence says about one link:
 * - `ok`: proven to work;
 * - `broken`: proven not to work, by the findings the step names;
 * - `at-risk`: works now and breaks later (a pinned pod IP, a node whose rules leak): shown, never the verdict;
 * - `undecided`: the bundle cannot prove it either way (`missing` says what is missing, `howToGet` how to get it);
 * - `not-applicable`: the path does not have this link (no Service when a pod IP is addressed).
 */
export type LinkStatus = "ok" | "broken" | "at-risk" | "undecided" | "not-applicable";

/**
 * The answer: `reachable` only when every link is `ok`, `at-risk` or `not-applicable`; `broken` when a
 * link is proven broken; otherwise `undecided`. For the full check (no question) `reachable` reads
 * "healthy": every Service port is programmed on every node and no node shows a problem.
 */
export type Verdict = "reachable" | "broken" | "undecided";

export interface CheckStep {
  readonly check: CheckName;
  readonly status: LinkStatus;
  /**
   * Kept for compatibility: `true` for `ok` and `at-risk`, `false` for `broken`, absent otherwise.
   * New code reads `status`.
   */
  readonly ok?: boolean;
  readonly detail: string;
  /** For `undecided`: the evidence that is missing, e.g. `nodes/master1/iptables-save.txt`. */
  readonly missing?: string;
  /** For `undecided`: how to get it, e.g. `netdoctor collect --nodes master1`. */
  readonly howToGet?: string;
  /** Codes of the findings that make this link broken or at risk. */
  readonly findings?: readonly string[];
}

/** How a node proxies Services, decided from evidence (src/kube-proxy/proxy-mode.ts). */
export type ProxyModeName = "iptables" | "ipvs" | "nftables" | "none" | "unknown";

/** kube-proxy on one node: its mode, the release range of its rules and its sync health. */
export interface KubeProxySummary {
  /** `none`: no kube-proxy rules next to another Service proxy's (an eBPF replacement). */
  readonly mode: ProxyModeName;
  /** One sentence: the mode and what shows it. */
  readonly modeReason: string;
  readonly modeEvidence: readonly Evidence[];
  /** The kube-proxy release range its iptables rules were written by (iptables mode only). */
  readonly era?: {
    /** E.g. `v1.24 or later`, `v1.21-v1.23`, `unknown version`. */
    readonly label: string;
    readonly min?: number;
    readonly max?: number;
    readonly evidence: readonly Evidence[];
  };
  /** kube-proxy's sync health, when its metrics or canary chains say something. */
  readonly health?: {
    /** E.g. `kube-proxy on "node2" last synced 7 minutes ago (at collection), 0 restore failures`. */
    readonly summary: string;
    readonly syncAgeSeconds?: number;
    readonly restoreFailures?: number;
    /** Tables whose KUBE-PROXY-CANARY chain is gone although others have it (a flush). */
    readonly canaryMissing: readonly string[];
    readonly evidence: readonly Evidence[];
  };
}

/** Per-node facts for the report: counts and versions, whatever the question. */
export interface NodeSummary {
  readonly node: string;
  /** Bundle-relative path of the node's iptables-save dump. */
  readonly file: string;
  readonly readable: boolean;
  readonly rules: number;
  readonly chains: number;
  readonly duplicateRules: number;
  readonly header?: DumpHeader;
  /** `iptables --version` output, e.g. "iptables v1.8.2 (nf_tables)". */
  readonly iptablesVersion?: string;
  readonly knownBugs: readonly string[];
  /** kube-proxy's mode, era and health; absent when the node's dump could not be read. */
  readonly kubeProxy?: KubeProxySummary;
}

/** What the `--to` destination is, as the client's cluster sees it. */
export type DestinationKind = "service" | "pod" | "node" | "outside" | "unassigned";

export interface Diagnosis {
  /** Kept for compatibility: `verdict === "reachable"`. */
  readonly ok: boolean;
  readonly verdict: Verdict;
  /** The first broken link of the walk, e.g. `node-dataplane`; only when `verdict` is `broken`. */
  readonly brokenAt?: CheckName;
  /** The first undecided link; only when `verdict` is `undecided`. */
  readonly undecidedAt?: CheckName;
  /** Links that work now and break later, in walk order (empty when none). */
  readonly atRisk: readonly CheckName[];
  /** One sentence a person can act on. */
  readonly summary: string;
  readonly cluster?: string;
  readonly question?: {
    readonly from?: string;
    readonly to?: string;
    readonly clientNode?: string;
    readonly destination?: DestinationKind;
    readonly clusterIp?: string;
    readonly port?: number;
  };
  readonly steps: readonly CheckStep[];
  readonly findings: readonly Finding[];
  /** The trace on the client's node, when a question was asked and the node's rules were readable. */
  readonly trace?: TraceResult;
  /**
   * The connection across nodes (one hop per node: the client's, then the endpoint's), when the
   * bundle's host files were read (docs/trace.md, multi-hop).
   */
  readonly pathTrace?: TraceResult;
  readonly nodes: readonly NodeSummary[];
}

/** Builds a {@linkcode CheckStep} with the compatibility `ok` derived from `status`. */
export function checkStep(
  check: CheckName,
  status: LinkStatus,
  detail: string,
  extra: Pick<CheckStep, "missing" | "howToGet" | "findings"> = {},
): CheckStep {
  const ok = status === "ok" || status === "at-risk" ? true : status === "broken" ? false : undefined;
  return {
    check,
    status,
    ...(ok === undefined ? {} : { ok }),
    detail,
    ...(extra.missing === undefined ? {} : { missing: extra.missing }),
    ...(extra.howToGet === undefined ? {} : { howToGet: extra.howToGet }),
    ...(extra.findings === undefined || extra.findings.length === 0 ? {} : { findings: extra.findings }),
  };
}

/**
 * The verdict of a walk: the first broken link decides; without one, the first undecided link; else
 * reachable, with the at-risk links listed.
 */
export function verdictOf(steps: readonly CheckStep[]): {
  readonly verdict: Verdict;
  readonly at?: CheckName;
  readonly atRisk: readonly CheckName[];
} {
  const atRisk = steps.filter((s) => s.status === "at-risk").map((s) => s.check);
  const broken = steps.find((s) => s.status === "broken");
  if (broken !== undefined) return { verdict: "broken", at: broken.check, atRisk };
  const undecided = steps.find((s) => s.status === "undecided");
  if (undecided !== undefined) return { verdict: "undecided", at: undecided.check, atRisk };
  return { verdict: "reachable", atRisk };
}
