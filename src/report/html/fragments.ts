/** Small HTML fragments shared by the report's sections. Every data string passes through escapeHtml. */
import type { Evidence, Finding } from "../../model/finding.ts";
import { escapeHtml as e } from "./escape.ts";

/** Evidence lines shown per finding; the rest are counted (the downloadable JSON keeps them). */
export const MAX_EVIDENCE_PER_FINDING = 20;

/** Formats an integer with thousands separators, independent of the machine's locale. */
export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  const digits = String(Math.round(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `1 rule`, `2 rules`, `1,000 rules`. */
export function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? "" : "s"}`;
}

/** Cuts a label for a fixed-width box; the full text goes into a tooltip and the evidence panel. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text;
}

/** `file:line` (or just the file for whole-file evidence). */
export function where(file: string, line?: number): string {
  return line === undefined ? file : `${file}:${line}`;
}

/** Evidence lines as a list: location, then the line's text verbatim. */
export function evidenceList(evidence: readonly Evidence[]): string {
  if (evidence.length === 0) return "";
  const items = evidence
    .slice(0, MAX_EVIDENCE_PER_FINDING)
    .map(
      (ev) => `<li><code class="where">${e(where(ev.file, ev.line))}</code><code>${e(ev.text)}</code></li>`,
    );
  const more = evidence.length - MAX_EVIDENCE_PER_FINDING;
  if (more > 0) items.push(`<li class="more">${formatCount(more)} more evidence lines in the JSON data</li>`);
  return `<ul class="evidence">${items.join("")}</ul>`;
}

const GITHUB_REF = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/;
const HTTPS_URL = /^https:\/\/[^\s"'<>]+$/;

/**
 * A reference as a link when it is an `owner/repo#N` issue or an https URL, else plain text.
 * Other schemes (`javascript:`, `data:`) are never turned into links.
 */
function reference(ref: string): string {
  const gh = GITHUB_REF.exec(ref);
  if (gh !== null) {
    const url = `https://github.com/${gh[1]}/${gh[2]}/issues/${gh[3]}`;
    return `<a href="${e(url)}" rel="noreferrer noopener">${e(ref)}</a>`;
  }
  if (HTTPS_URL.test(ref)) return `<a href="${e(ref)}" rel="noreferrer noopener">${e(ref)}</a>`;
  return e(ref);
}

/** One finding: severity badge, code, subject, message, evidence, fix and references. */
export function findingCard(f: Finding, headingLevel: 3 | 4): string {
  const subject = [
    f.node === undefined ? "" : `node ${f.node}`,
    f.service === undefined ? "" : `service ${f.service}`,
    f.pod === undefined ? "" : `pod ${f.pod}`,
  ].filter((s) => s !== "");
  const h = `h${headingLevel}`;
  return [
    `<article class="finding f-${f.severity}">`,
    `<header><span class="sev sev-${f.severity}">${f.severity}</span>`,
    `<${h} class="code mono">${e(f.code)}</${h}>`,
    subject.length > 0 ? `<span class="subject">${e(subject.join(" \u00b7 "))}</span>` : "",
    `</header><p>${e(f.message)}</p>`,
    evidenceList(f.evidence),
    f.fix === undefined ? "" : `<p class="fix"><b>Fix:</b> ${e(f.fix)}</p>`,
    f.references === undefined || f.references.length === 0
      ? ""
      : `<p class="refs">See: ${f.references.map(reference).join(", ")}</p>`,
    "</article>",
  ].join("");
}
