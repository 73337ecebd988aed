import type { Finding } from "../model/finding.ts";
import { clipText, terminalSafe } from "../text/terminal-safe.ts";

export { clipText, terminalSafe };

const SEVERITY_LABEL = { error: "ERROR", warning: "WARN ", info: "INFO " } as const;

/** Renders findings for people: severity, code, message, evidence as file:line, fix, references. */
export function renderFindingsText(findings: readonly Finding[]): string {
  if (findings.length === 0) return "No problems found.\n";
  const out: string[] = [];
  for (const f of findings) {
    out.push(`${SEVERITY_LABEL[f.severity]} ${f.code}: ${terminalSafe(f.message)}`);
    for (const e of f.evidence) {
      const where = e.line === undefined ? e.file : `${e.file}:${e.line}`;
      out.push(`    ${terminalSafe(where)}  ${clipText(e.text)}`);
    }
    if (f.fix !== undefined) out.push(`    fix: ${terminalSafe(f.fix)}`);
    if (f.references !== undefined && f.references.length > 0)
      out.push(`    see: ${f.references.join(", ")}`);
  }
  return `${out.join("\n")}\n`;
}
