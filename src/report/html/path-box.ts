/** The boxes of the path diagram and their evidence (path-model.ts builds them). */
import type { CheckStep } from "../../model/diagnosis.ts";
import type { Finding } from "../../model/finding.ts";
import type { RuleStep } from "../../model/trace.ts";

/** What a box of the diagram stands for. */
export type BoxKind = "client" | "dns" | "service" | "node" | "hop" | "fold" | "host" | "policy" | "endpoint";
/** `cited`: a hop whose rule a finding cites as evidence, without being where the path breaks. */
export type BoxStatus = "ok" | "broken" | "cited" | "unknown" | "neutral";

/** A rule step of the trace with the dump it comes from, for file:line evidence. */
export interface HopEvidence {
  readonly file: string;
  readonly step: RuleStep;
}

/** One box of the diagram with the evidence its panel shows. */
export interface Box {
  readonly kind: BoxKind;
  readonly title: string;
  readonly sub: string;
  status: BoxStatus;
  /** True for the box of the first broken link (`brokenAt`). */
  brokenLink: boolean;
  readonly steps: CheckStep[];
  readonly findings: Finding[];
  readonly hops: HopEvidence[];
  readonly notes: string[];
}

/** Branches drawn; the remaining paths are summarised in one box. */
export const MAX_BRANCHES = 8;
/** Hops drawn on the spine; the middle ones are folded into one box beyond this. */
export const MAX_SPINE_HOPS = 12;

/** A box with no status, steps, findings or evidence yet. */
export function box(kind: BoxKind, title: string, sub: string): Box {
  return {
    kind,
    title,
    sub,
    status: "neutral",
    brokenLink: false,
    steps: [],
    findings: [],
    hops: [],
    notes: [],
  };
}
