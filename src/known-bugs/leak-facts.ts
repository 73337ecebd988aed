/**
 * The facts a leak detector reads, from whichever source has them: a scan of the node's dump (scan,
 * diagnose, the exporter) or a dedupe plan (`fix duplicates`). Kept small so both can supply it.
 */
import type { Evidence } from "../model/finding.ts";
import type { TableName } from "../model/ruleset.ts";
import type { RuleOwner } from "../scan/rule-owner.ts";
import { type IptablesVersion, iptablesVersionOf } from "./iptables-version.ts";
import type { NodeEvidence } from "./node-evidence.ts";

/** Exact copies of one rule. */
export interface CopyGroup {
  readonly table: TableName;
  readonly chain: string;
  readonly rule: string;
  /** Copies in all, the first one included. */
  readonly count: number;
  readonly owner: RuleOwner;
  /** Line of the first copy. */
  readonly line: number;
}

/** One node's duplicates and the iptables that shows them. */
export interface LeakFacts {
  readonly node: string;
  /** The dump the groups' lines refer to. */
  readonly file: string;
  /** From `iptables --version`, else the dump header; undefined when neither tells. */
  readonly version?: IptablesVersion;
  /** The dump is `ip6tables-save` output. */
  readonly ip6: boolean;
  /** Largest groups first. */
  readonly groups: readonly CopyGroup[];
}

/**
 * Owners whose rules no person writes: Kubernetes components and the container runtime's networking
 * (they add a rule after `iptables -C` says it is missing, or restore whole chains). A copy of such a
 * rule is a leak; copies owned by `other` are a static ruleset's redundancy.
 */
export function isManaged(owner: RuleOwner): boolean {
  return owner !== "other";
}

/** The facts of a node's evidence; undefined when its dump was not read. */
export function leakFactsOf(e: NodeEvidence): LeakFacts | undefined {
  const scan = e.scan;
  if (scan === undefined) return undefined;
  const version = iptablesVersionOf(e);
  return {
    node: e.node,
    file: scan.file,
    ...(version === undefined ? {} : { version }),
    ip6: scan.header.program?.startsWith("ip6tables") ?? false,
    groups: scan.duplicates.groups.map((g) => ({
      table: g.table,
      chain: g.chain,
      rule: g.rule,
      count: g.count,
      owner: g.owner,
      line: g.lines[0]!,
    })),
  };
}

/** `iptables 1.8.2 (nf_tables)`; `iptables 1.8.7` when the backend is not known. */
export function versionText(v: IptablesVersion): string {
  return `iptables ${v.major}.${v.minor}.${v.patch}${v.backend === "unknown" ? "" : ` (${v.backend})`}`;
}

/** The line that shows the version, as evidence. */
export function versionEvidence(v: IptablesVersion): Evidence {
  return v.line === undefined ? { file: v.file, text: v.text } : { file: v.file, line: v.line, text: v.text };
}

/** The first lines of the largest groups, as evidence: `50x -A ...`. */
export function groupEvidence(file: string, groups: readonly CopyGroup[], max = 3): Evidence[] {
  return groups.slice(0, max).map((g) => ({ file, line: g.line, text: `${g.count}x ${g.rule}` }));
}

/** Extra copies (count - 1) summed over groups. */
export function extraCopies(groups: readonly CopyGroup[]): number {
  return groups.reduce((n, g) => n + g.count - 1, 0);
}
