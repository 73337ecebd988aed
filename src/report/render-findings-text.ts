import type { Finding } from "../model/finding.ts";

const SEVERITY_LABEL = { error: "ERROR", warning: "WARN ", info: "INFO " } as const;

/**
 * Characters a terminal would act on rather than show: C0/C1 controls (escape sequences), DEL, and
 * the Unicode bidirectional controls that can make a line read differently from what it holds.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text from a dump (comments, chain names) safe to print on a terminal: characters a
 * terminal would interpret are shown as `\t`, `\x1b`, `\u202e`, ...
 *
 * @example
 * ```ts
 * terminalSafe("a\x1b[31mb"); // "a\\x1b[31mb"
 * ```
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === "\t") return "\\t";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Clips a rule for one terminal line and makes it terminal-safe; the full text stays in JSON output. */
export function clipText(text: string, max = 160): string {
  const safe = terminalSafe(text);
  return safe.length > max ? `${safe.slice(0, max - 3)}...` : safe;
}

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
