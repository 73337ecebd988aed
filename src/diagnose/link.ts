/** What each link of the walk hands back: its step, its findings, and the typed facts the summary needs. */

import type { ClusterState } from "../model/cluster.ts";
import {
  type CheckName,
  type CheckStep,
  checkStep,
  type LinkStatus,
  type NodeSummary,
} from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { TraceResult } from "../model/trace.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import type { NodeHostEvidence } from "../trace/trace-host.ts";
import type { HostFacts } from "./host-facts.ts";
import type { IpvsNodeFacts } from "./ipvs-node.ts";
import type { NetpolEvidence } from "./netpol-evidence.ts";
import type { Question } from "./question.ts";

export interface Link {
  readonly step: CheckStep;
  readonly findings: readonly Finding[];
  /** The finding that proves a broken link. */
  readonly proof?: Finding;
  /** What the client sees at a broken link, e.g. `EHOSTUNREACH ("Host is unreachable")`. */
  readonly clientSees?: string;
  /** A short phrase for the summary when the link is at risk. */
  readonly risk?: string;
}

/** How far the client node's dump could be read. */
export type DumpState = "read" | "missing" | "failed" | "unparsable";

/** The client node as the bundle shows it. */
export interface ClientNodeFacts {
  readonly node: string;
  /** Bundle-relative path of its dump. */
  readonly file: string;
  readonly dump: DumpState;
  /** kube-proxy findings for the asked Service (and the cluster DNS) on this node. */
  readonly dataplane: readonly Finding[];
  /** Set when the node's proxy mode is one netdoctor does not analyse (from reconciliation). */
  readonly proxyUndecided?: string;
  readonly health: readonly Finding[];
  readonly summary: NodeSummary;
  readonly trace?: TraceResult;
  readonly traceError?: string;
  /** Set for a node in IPVS mode: its IPVS table's reconciliation (ipvs-node.ts). */
  readonly ipvs?: IpvsNodeFacts;
  /** `bundle-invalid` problems of this node's directory. */
  readonly problems: readonly Finding[];
  /** What the whole-host trace read (issue 15); absent when the node's nft evidence was not looked for. */
  readonly host?: HostFacts | undefined;
}

/** Everything the links read. */
export interface WalkContext {
  readonly question: Question;
  readonly cluster: ClusterState;
  /** Bundle files with items that could not be read: an absence there proves nothing. */
  readonly gaps: ReadonlySet<string>;
  /** Undefined when the client pod has no node or the bundle has no directory for it. */
  readonly node?: ClientNodeFacts;
  /** `config-pod-ip` findings from the client's env and ConfigMaps. */
  readonly config: readonly Finding[];
  /** The NetworkPolicy lists and the enforcing nodes' rules and ipsets (the network-policy link). */
  readonly netpol?: NetpolEvidence;
  /** The app-config check of `--jar`, when asked. */
  readonly appConfig?: { readonly step: CheckStep; readonly findings: readonly Finding[] };
  /** The bundle's host side, for the route, overlay and endpoint-node links; absent when not read. */
  readonly hostPathInput?: HostPathInput;
  /**
   * The nft rulesets, legacy tables and interfaces of the nodes past the client's that the path
   * reaches (the endpoint's node), for the host-firewall link; a node absent here was not read.
   */
  readonly pathHosts?: ReadonlyMap<string, NodeHostEvidence>;
}

/** A link with no findings. */
export function plain(
  check: CheckName,
  status: LinkStatus,
  detail: string,
  extra: Pick<CheckStep, "missing" | "howToGet"> & { readonly risk?: string } = {},
): Link {
  const { risk, ...rest } = extra;
  return {
    step: checkStep(check, status, detail, rest),
    findings: [],
    ...(risk === undefined ? {} : { risk }),
  };
}

/** A broken link and the finding that proves it. */
export function brokenBy(
  check: CheckName,
  proof: Finding,
  detail = proof.message,
  more: readonly Finding[] = [],
): Link {
  return {
    step: checkStep(check, "broken", detail, { findings: [proof.code] }),
    findings: [proof, ...more],
    proof,
  };
}

/** An undecided link: what is missing and how to get it. */
export function undecided(
  check: CheckName,
  detail: string,
  how: { readonly missing: string; readonly howToGet: string },
  findings: readonly Finding[] = [],
): Link {
  return { step: checkStep(check, "undecided", detail, how), findings };
}

/** `netdoctor collect --nodes N` (or by hand over ssh). */
export function collectNode(node: string, file = "iptables-save.txt"): string {
  return file === "iptables-save.txt"
    ? `run \`netdoctor collect --nodes ${node}\`, or \`ssh ${node} sudo iptables-save > nodes/${node}/iptables-save.txt\``
    : `run \`netdoctor collect --nodes ${node}\``;
}
