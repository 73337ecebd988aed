import type { NodeKind } from "../findings/kube-proxy-restart.ts";
import { makeFinding } from "../findings/make-finding.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import { bugContext } from "./bug-context.ts";
import { fixFor } from "./known-bug.ts";
import { KNOWN_BUGS, type KnownBug } from "./known-bugs-catalogue.ts";
import type { NodeEvidence } from "./node-evidence.ts";

export { KNOWN_BUGS, type KnownBug };

/** Options of {@linkcode detectKnownBugs}. */
export interface KnownBugOptions {
  /**
   * The node's distribution and role from its Node object (`nodeKindOf`); without it, `k3s
   * --version` in the evidence still marks a k3s node. Fixes are written for it.
   */
  readonly nodeKind?: NodeKind;
}

/**
 * Runs the known-bug catalogue over one node's evidence.
 *
 * Also reports `iptables-unreadable` when the node's `iptables-save` failed or its output is
 * missing: the node's rules cannot be judged, which is itself the first thing to fix.
 *
 * @example
 * ```ts
 * const findings = detectKnownBugs({ node: "agent1", scan, iptablesVersion: { file, text: "iptables v1.8.2 (nf_tables)" } });
 * findings.map((f) => f.code); // ["iptables-known-bug"]
 * ```
 */
export function detectKnownBugs(evidence: NodeEvidence, options: KnownBugOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const ctx = bugContext(options.nodeKind, evidence);
  for (const bug of KNOWN_BUGS) {
    const hit = bug.detect(evidence);
    if (hit === undefined) continue;
    const { id, title, severity, affected, references } = bug;
    const fix = fixFor(bug, ctx);
    findings.push(
      makeFinding(
        bug.code,
        { bug: { id, title, severity, affected, fix, references }, detail: hit.message },
        { node: evidence.node, evidence: hit.evidence },
      ),
    );
  }
  if (evidence.scan === undefined && !findings.some((f) => f.code === "iptables-unreadable")) {
    findings.push(unreadable(evidence));
  }
  return findings;
}

/** Ids of the catalogue entries that match, for metrics and node tables. */
export function knownBugIds(evidence: NodeEvidence): string[] {
  return KNOWN_BUGS.filter((b) => b.detect(evidence) !== undefined).map((b) => b.id);
}

function unreadable(e: NodeEvidence): Finding {
  const evidence: Evidence[] = [];
  let detail = "no iptables-save output was collected";
  if (e.saveError !== undefined) {
    const lines = e.saveError.text.split("\n").filter((l) => l.trim() !== "");
    detail = `iptables-save failed${e.saveError.exitCode === undefined ? "" : ` with exit code ${e.saveError.exitCode}`}`;
    lines.slice(0, 3).forEach((text) => {
      evidence.push({ file: e.saveError!.file, line: e.saveError!.text.split("\n").indexOf(text) + 1, text });
    });
    if (lines.length === 0) evidence.push({ file: e.saveError.file, text: "(empty stderr)" });
  }
  for (const other of e.otherErrors ?? []) {
    const first = other.text.split("\n").find((l) => l.trim() !== "");
    if (first !== undefined) evidence.push({ file: other.file, line: 1, text: first });
  }
  return makeFinding("iptables-unreadable", { node: e.node, detail }, { node: e.node, evidence });
}
