/** The shape of one known-bug catalogue entry (the entries are in known-bugs-catalogue.ts and leak-bugs.ts). */
import type { KnownBugCode } from "../findings/catalogue.ts";
import type { Evidence, Severity } from "../model/finding.ts";
import type { BugContext } from "./bug-context.ts";
import type { LeakFacts } from "./leak-facts.ts";
import type { NodeEvidence } from "./node-evidence.ts";

/** What a detector found: the sentence and the lines that prove it. */
export interface Detection {
  readonly message: string;
  readonly evidence: readonly Evidence[];
}

export interface KnownBug {
  /** Stable id used in findings and the `netdoctor_iptables_known_bug{id}` metric, e.g. `k3s-3117`. */
  readonly id: string;
  /** Number in the team's reference catalogue (shared/reference/iptables-known-bugs.md), when it has one; never shown to users. */
  readonly kb?: string;
  readonly title: string;
  readonly code: KnownBugCode;
  readonly severity: Severity;
  readonly affected: string;
  /** What to do; a function when it depends on the node's distribution, role or k3s version. */
  readonly fix: string | ((ctx: BugContext) => string);
  /**
   * For leak bugs: what stops new copies, without the removal of the existing ones (a dedupe plan
   * says that itself); `fix` is this followed by the removal.
   */
  readonly cure?: (ctx: BugContext) => string;
  readonly references: readonly string[];
  /** Undefined when the evidence does not show the bug (or cannot show it). */
  readonly detect: (evidence: NodeEvidence) => Detection | undefined;
  /**
   * For bugs whose symptom is leaked copies: the detector over the copies alone, which a dedupe plan
   * can supply as well as a scan. `detect` runs it on the scan's copies.
   */
  readonly leak?: (facts: LeakFacts) => Detection | undefined;
}

/** The fix of `bug` for a node in `ctx`. */
export function fixFor(bug: KnownBug, ctx: BugContext): string {
  return typeof bug.fix === "string" ? bug.fix : bug.fix(ctx);
}
