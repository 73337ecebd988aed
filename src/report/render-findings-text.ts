import type { Finding } from "../model/finding.ts";

const SEVERITY_LABEL = { error: "ERROR", warning: "WARN ", info: "INFO " } as const;

/** Clips a rule for one terminal line; the full text stays in JSON output. */
export function clipText(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Renders findings for people: severity, code, message, evidence as file:line, fix, references. */
export function renderFindingsText(findings: readonly Finding[]): string {
  if (findings.length === 0) return "No problems found.\n";
  const out: string[] = [];
  for (const f of findings) {
    out.push(`${SEVERITY_LABEL[f.severity]} ${f.code}: ${f.message}`);
    for (const e of f.evidence) {
      const where = e.line === undefined ? e.file : `${e.file}:${e.line}`;
      out.push(`    ${where}  ${clipText(e.text)}`);
    }
    if (f.fix !== undefined) out.push(`    fix: ${f.fix}`);
    if (f.references !== undefined && f.references.length > 0) out.push(`    see: ${f.references.join(", ")}`);
  }
  return `${out.join("\n")}\n`;
}
