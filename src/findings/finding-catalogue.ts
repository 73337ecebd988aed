/**
 * The findings catalogue as plain data, for programs (a dashboard, an alert router, docs of
 * another tool): one description per code, without the templates that need the evidence's values.
 */
import type { FindingCode } from "../model/finding.ts";
import { FINDINGS } from "./catalogue.ts";
import { docAnchor, severityText } from "./finding-entry.ts";

/** What the catalogue says about one finding code. */
export interface FindingDescription {
  readonly code: FindingCode;
  /** `error`, `warning` or `info`, or the rule that picks one per finding (as docs/findings.md states it). */
  readonly severity: string;
  readonly title: string;
  readonly explanation: string;
  /** The section of docs/findings.md, e.g. `docs/findings.md#endpoint-stale`. */
  readonly documentation: string;
  /** Public references that hold for every finding of the code (some add more per finding). */
  readonly references: readonly string[];
}

/**
 * Every finding code netdoctor reports, in the order docs/findings.md lists them.
 *
 * @example
 * ```ts
 * findingCatalogue().find((d) => d.code === "endpoint-stale")?.severity; // "error"
 * ```
 */
export function findingCatalogue(): FindingDescription[] {
  return Object.values(FINDINGS).map((entry) => ({
    code: entry.code,
    severity: severityText(entry),
    title: entry.title,
    explanation: entry.explanation,
    documentation: docAnchor(entry.code),
    references: typeof entry.references === "function" ? [] : entry.references,
  }));
}
