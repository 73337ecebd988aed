import type { Evidence, Finding } from "../model/finding.ts";
import { KNOWN_BUGS, type KnownBug } from "./known-bugs-catalogue.ts";
import type { NodeEvidence } from "./node-evidence.ts";

export { KNOWN_BUGS, type KnownBug };

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
export function detectKnownBugs(evidence: NodeEvidence): Finding[] {
  const findings: Finding[] = [];
  for (const bug of KNOWN_BUGS) {
    const hit = bug.detect(evidence);
    if (hit === undefined) continue;
    findings.push({
      code: bug.code,
      severity: bug.severity,
      node: evidence.node,
      message: `${bug.title} [${bug.id}]: ${hit.message}. Affected: ${bug.affected}`,
      evidence: hit.evidence,
      fix: bug.fix,
      references: bug.references,
    });
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
  return {
    code: "iptables-unreadable",
    severity: "error",
    node: e.node,
    message: `Cannot judge node "${e.node}": ${detail}; its rules may be stale or broken and netdoctor cannot see them`,
    evidence,
    fix: "Run `iptables-save` on the node by hand (with the iptables the node's k3s/kube-proxy uses) and read its stderr; a failing iptables on the node also stops kube-proxy from syncing",
    references: ["k3s-io/k3s#3117", "kubernetes/kubernetes#121726"],
  };
}
