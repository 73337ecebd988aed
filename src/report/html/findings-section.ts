/** The "Findings" section: severity filter, then findings grouped by severity, bounded per code. */
import type { Finding, Severity } from "../../model/finding.ts";
import { escapeHtml as e } from "./escape.ts";
import { findingCard, formatCount } from "./fragments.ts";

/** Findings shown per code; the rest are counted (`diagnose -o json` lists them all). */
export const MAX_FINDINGS_PER_CODE = 200;

const ORDER: readonly Severity[] = ["error", "warning", "info"];

/** Renders every finding (up to MAX_FINDINGS_PER_CODE per code) with a severity filter. */
export function renderFindingsSection(findings: readonly Finding[]): string {
  const counts = ORDER.map((s) => findings.filter((f) => f.severity === s).length);
  const head = `<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings (${formatCount(findings.length)})</h2>`;
  if (findings.length === 0) return `${head}<p>No problems found.</p></section>`;
  const toolbar = ORDER.map(
    (s, i) =>
      `<button type="button" data-filter="${s}" aria-pressed="true">${s} (${formatCount(counts[i]!)})</button>`,
  ).join("");
  const perCode = new Map<string, number>();
  const cards: string[] = [];
  const cut = new Map<string, number>();
  for (const sev of ORDER) {
    for (const f of findings) {
      if (f.severity !== sev) continue;
      const n = (perCode.get(f.code) ?? 0) + 1;
      perCode.set(f.code, n);
      if (n <= MAX_FINDINGS_PER_CODE) cards.push(findingCard(f, 3));
      else cut.set(f.code, (cut.get(f.code) ?? 0) + 1);
    }
  }
  const notes = [...cut].map(
    ([code, n]) =>
      `<p class="more">${formatCount(n)} more <span class="mono">${e(code)}</span> findings not shown here; the downloadable JSON and <span class="mono">diagnose -o json</span> list them</p>`,
  );
  return [
    head,
    `<div class="toolbar" role="group" aria-label="Show severities">${toolbar}</div>`,
    cards.join(""),
    notes.join(""),
    "</section>",
  ].join("");
}
