/**
 * The "Rules that matter" section: per node a collapsible excerpt of the chains on the path or cited by a
 * finding, with dump line numbers. Sizes are bounded here whatever the input holds: a node with 180,000
 * rules contributes its few relevant lines, not its dump.
 */
import { escapeHtml as e } from "./escape.ts";
import { plural } from "./fragments.ts";
import type { NodeRuleView } from "./report-input.ts";

/** Chains shown per node; the others are counted. */
export const MAX_CHAINS_PER_NODE = 30;
/** Rule lines shown per chain; the others are counted. */
export const MAX_RULES_PER_CHAIN = 200;

function chainHtml(view: NodeRuleView["chains"][number]): string {
  const shown = view.rules.slice(0, MAX_RULES_PER_CHAIN);
  const rows: string[] = [];
  let previous: number | undefined;
  for (const r of shown) {
    if (previous !== undefined && r.line > previous + 1)
      rows.push(`<tr class="gap"><td></td><td>\u22ee</td></tr>`);
    rows.push(
      `<tr${r.mark === undefined ? "" : ` class="mark-${r.mark}"`}><td class="ln">${r.line}</td><td><code>${e(r.text)}</code></td></tr>`,
    );
    previous = r.line;
  }
  const hidden = Math.max(0, view.totalRules - shown.length);
  const declared = view.line > 0 ? `declared at line ${view.line} \u00b7 ` : "";
  return [
    `<h4><span class="mono">${e(view.table)} \u00b7 ${e(view.chain)}</span> <span class="hint">${declared}${plural(view.totalRules, "rule")} \u00b7 ${e(view.reason)}</span></h4>`,
    `<table class="rules"><thead><tr><th scope="col">Line</th><th scope="col">Rule</th></tr></thead><tbody>${rows.join("")}</tbody></table>`,
    hidden > 0 ? `<p class="more">${plural(hidden, "more rule")} of this chain not shown</p>` : "",
  ].join("");
}

/** Renders every node's rule view as a button (aria-expanded) controlling a hidden region. */
export function renderRuleViews(views: readonly NodeRuleView[] | undefined): string {
  const head = `<section aria-labelledby="rules-h"><h2 id="rules-h">Rules that matter</h2>`;
  if (views === undefined || views.length === 0) {
    return `${head}<p class="hint">No rule excerpts in this report.</p></section>`;
  }
  const parts = [
    head,
    `<p class="legend"><span><span class="swatch sw-trace"></span>on the traced path</span><span><span class="swatch sw-ev"></span>cited by a finding</span><span><span class="swatch sw-svc"></span>the Service's entry</span></p>`,
  ];
  views.forEach((v, i) => {
    const chains = v.chains.slice(0, MAX_CHAINS_PER_NODE);
    const omitted = v.omittedChains + (v.chains.length - chains.length);
    parts.push(
      `<div class="rv"><h3><button type="button" aria-expanded="false" aria-controls="rv-${i}">${e(v.node)} \u2014 ${plural(v.chains.length + v.omittedChains, "chain")} from ${e(v.file)}</button></h3>`,
      `<div id="rv-${i}" hidden>`,
      chains.map(chainHtml).join(""),
      omitted > 0 ? `<p class="more">${plural(omitted, "more chain")} not shown</p>` : "",
      "</div></div>",
    );
  });
  parts.push("</section>");
  return parts.join("");
}
