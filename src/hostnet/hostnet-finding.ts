/**
 * Small helpers for the findings of the cross-node checks, which are built through the findings
 * catalogue (src/findings/overlay-entries.ts, host-entries.ts) with `makeFinding`.
 */
import type { Evidence } from "../model/finding.ts";

/** Whole-file evidence: a file that is missing, or a fact about a whole file. */
export function fileEvidence(file: string, text: string): Evidence {
  return { file, text };
}

/** Evidence without repeats (same file, line and text), in order. */
export function distinctEvidence(list: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const k = `${e.file}\u0000${e.line ?? ""}\u0000${e.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
