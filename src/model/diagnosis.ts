/**
 * The result of `netdoctor diagnose` (its JSON contract). Renderers (text, JSON, YAML, HTML)
 * take this and nothing else.
 */
import type { Finding } from "./finding.ts";
import type { DumpHeader } from "./ruleset.ts";
import type { TraceResult } from "./trace.ts";

/** The checks of a `--from/--to` walk, in the order they run. */
export type CheckName =
  | "bundle"
  | "dns"
  | "service"
  | "endpoints"
  | "client-node"
  | "node-dataplane"
  | "node-health"
  | "config";

export interface CheckStep {
  readonly check: CheckName;
  /** False at the first broken link; `undefined` when the check could not decide (say why in detail). */
  readonly ok: boolean | undefined;
  readonly detail: string;
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
}

export interface Diagnosis {
  readonly ok: boolean;
  /** The first broken link of the walk, e.g. `node-dataplane`; absent when ok. */
  readonly brokenAt?: CheckName;
  /** One sentence a person can act on. */
  readonly summary: string;
  readonly cluster?: string;
  readonly question?: {
    readonly from?: string;
    readonly to?: string;
    readonly clientNode?: string;
    readonly clusterIp?: string;
    readonly port?: number;
  };
  readonly steps: readonly CheckStep[];
  readonly findings: readonly Finding[];
  /** The trace on the client's node, when a question was asked and the node's rules were readable. */
  readonly trace?: TraceResult;
  readonly nodes: readonly NodeSummary[];
}
