/** Builds a Finding from its catalogue entry: the only constructor of findings. */
import type { Evidence, Finding, FindingCode } from "../model/finding.ts";
import { FINDINGS, type FindingValues } from "./catalogue.ts";
import { type FindingEntry, severityOf } from "./finding-entry.ts";

/** What a finding is about and what proves it: the call site's part. */
export interface FindingScope {
  readonly evidence: readonly Evidence[];
  readonly node?: string;
  /** `namespace/name` of the Service concerned. */
  readonly service?: string;
  /** `namespace/name` of the Pod concerned. */
  readonly pod?: string;
}

/**
 * The finding `code` says about `values`, with the evidence that proves it. Severity, message, fix
 * and references come from the catalogue entry.
 *
 * @example
 * ```ts
 * const f = makeFinding("chain-leftover", { node: "agent1", count: 2 }, { node: "agent1", evidence: [] });
 * f.severity; // "warning"
 * ```
 */
export function makeFinding<C extends FindingCode>(
  code: C,
  values: FindingValues[C],
  scope: FindingScope,
): Finding {
  const entry = FINDINGS[code] as FindingEntry<FindingValues[C]>;
  const references = typeof entry.references === "function" ? entry.references(values) : entry.references;
  const fix = entry.fix(values);
  return {
    code,
    severity: severityOf(entry, values),
    ...(scope.node === undefined ? {} : { node: scope.node }),
    ...(scope.service === undefined ? {} : { service: scope.service }),
    ...(scope.pod === undefined ? {} : { pod: scope.pod }),
    message: entry.message(values),
    evidence: scope.evidence,
    ...(fix === "" ? {} : { fix }),
    ...(references.length === 0 ? {} : { references }),
  };
}
