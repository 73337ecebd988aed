/**
 * `netdoctor report`: renders a diagnosis as one self-contained HTML page. Pure: no I/O, no clock;
 * inline CSS, script and SVG only, so the file opens from file:// on an air-gapped laptop.
 *
 * Security: every string from a dump or a bundle is escaped for the context it lands in (element text
 * and attributes via escapeHtml, the embedded JSON via jsonForScript; none reaches CSS or URLs except
 * scheme-checked reference links). On top, a Content-Security-Policy names the one inline script and the one
 * inline style by SHA-256 hash: even an escaping bug could not run injected script or load anything.
 * Hashes rather than a nonce because the page is a static file: a nonce only helps when each response
 * gets a fresh one, and the render must be deterministic.
 */
import type { CheckStep } from "../model/diagnosis.ts";
import { REPORT_SCRIPT } from "./html/client-script.ts";
import { cspHash } from "./html/csp-hash.ts";
import { escapeHtml as e, jsonForScript } from "./html/escape.ts";
import { renderFindingsSection } from "./html/findings-section.ts";
import { outlierNodes, renderNodeTable, renderRuleChart } from "./html/node-charts.ts";
import { renderPathSection } from "./html/path-diagram.ts";
import { stepState } from "./html/path-slots.ts";
import type { ReportInput } from "./html/report-input.ts";
import { renderRuleViews } from "./html/rule-views.ts";
import { REPORT_CSS } from "./html/styles.ts";

export type { ChainView, NodeRuleView, ReportInput, RuleLineView } from "./html/report-input.ts";

/** The policy: nothing may load, only the hashed inline script and style run; images only as data: URLs. */
export function reportCsp(): string {
  return [
    "default-src 'none'",
    `script-src ${cspHash(REPORT_SCRIPT)}`,
    `style-src ${cspHash(REPORT_CSS)}`,
    "img-src data:",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

function checksList(steps: readonly CheckStep[]): string {
  if (steps.length === 0) return "";
  const items = steps.map((s) => {
    const st = stepState(s);
    return `<li><span class="st st-${st.cls}">${st.label}</span><span class="mono">${e(s.check)}</span><span>${e(s.detail)}</span></li>`;
  });
  return `<section aria-labelledby="checks-h"><h2 id="checks-h">Checks</h2><ol class="checks">${items.join("")}</ol></section>`;
}

/**
 * Findings embedded as JSON at most: the page must stay small (5,000 findings are about 3 MB); past this,
 * `findingsOmitted` says how many `diagnose -o json` has beyond the embedded ones.
 */
export const MAX_EMBEDDED_FINDINGS = 5_000;

/** The data embedded for machines (download button): the Diagnosis without the bulky rule views. */
function diagnosisData(input: ReportInput): unknown {
  const { ruleViews: _views, ...diagnosis } = input;
  if (diagnosis.findings.length <= MAX_EMBEDDED_FINDINGS) return diagnosis;
  return {
    ...diagnosis,
    findings: diagnosis.findings.slice(0, MAX_EMBEDDED_FINDINGS),
    findingsOmitted: diagnosis.findings.length - MAX_EMBEDDED_FINDINGS,
  };
}

/**
 * Renders the report page.
 *
 * @example
 * ```ts
 * const html = renderHtml({
 *   ok: true, verdict: "reachable", atRisk: [], summary: "All good", steps: [], findings: [], nodes: [],
 * });
 * html.startsWith("<!doctype html>"); // true
 * ```
 */
export function renderHtml(input: ReportInput): string {
  const q = input.question;
  const title = `netdoctor report${input.cluster === undefined ? "" : ` \u2014 ${input.cluster}`}`;
  const meta = [
    input.cluster === undefined ? "" : `cluster ${input.cluster}`,
    input.collectedAt === undefined ? "" : `collected ${input.collectedAt}`,
    `${input.nodes.length} nodes`,
  ].filter((s) => s !== "");
  const question =
    q === undefined
      ? "Full check of every Service on every node"
      : `Question: can ${q.from ?? "?"} reach ${q.to ?? "?"}${q.clientNode === undefined ? "" : ` (client on node ${q.clientNode})`}?`;
  const verdictClass =
    input.verdict === "reachable" ? "ok" : input.verdict === "broken" ? "broken" : "undecided";
  const verdictLabel =
    input.verdict === "reachable"
      ? q === undefined
        ? "Healthy:"
        : "Reachable:"
      : input.verdict === "broken"
        ? input.brokenAt === undefined
          ? "Problems found:"
          : `Broken at ${input.brokenAt}:`
        : `Undecided${input.undecidedAt === undefined ? "" : ` at ${input.undecidedAt}`}:`;
  const outliers = outlierNodes(input.nodes, input.findings);
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="${e(reportCsp())}">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<meta name="referrer" content="no-referrer">`,
    `<title>${e(title)}</title>`,
    `<style>${REPORT_CSS}</style></head><body><main>`,
    `<header><h1>${e(title)}</h1><p class="meta">${e(meta.join(" \u00b7 "))}</p>`,
    `<div id="verdict" class="verdict ${verdictClass}" role="status"><span class="label">${e(verdictLabel)}</span>${e(input.summary)}`,
    `<div class="question">${e(question)}</div></div></header>`,
    checksList(input.steps),
    renderPathSection(input),
    renderFindingsSection(input.findings),
    `<section aria-labelledby="nodes-h"><h2 id="nodes-h">Nodes</h2>`,
    input.nodes.length === 0
      ? `<p class="hint">No node data.</p>`
      : renderRuleChart(input.nodes, outliers) + renderNodeTable(input.nodes, outliers),
    "</section>",
    renderRuleViews(input.ruleViews),
    `<footer><p>Made by netdoctor from the bundle's files; every line number refers to the file named beside it. `,
    `<button type="button" data-download="json">Download the diagnosis as JSON</button></p></footer>`,
    `</main><script type="application/json" id="nd-diagnosis">${jsonForScript(diagnosisData(input))}</script>`,
    `<script>${REPORT_SCRIPT}</script></body></html>`,
    "",
  ].join("\n");
}
