/**
 * The "Nodes" section: a log-scale bar chart of rule counts (duplicates stacked, the outlier marked) and a
 * table of nodes with iptables version, backend and known bugs.
 */

import type { NodeSummary } from "../../model/diagnosis.ts";
import type { Finding } from "../../model/finding.ts";
import { median, ruleCountOutlier } from "../../scan/scan-findings.ts";
import { escapeHtml as e } from "./escape.ts";
import { clip, formatCount } from "./fragments.ts";

const LABEL_W = 190;
const BAR_W = 560;
const ROW_H = 28;
const TOP = 26;

/**
 * Nodes that are outliers: those with a `rules-outlier` finding, or, when `diagnose` reported none, those
 * past the same thresholds `scan` uses (`ruleCountOutlier`, either tier).
 */
export function outlierNodes(
  nodes: readonly NodeSummary[],
  findings: readonly Finding[],
): Map<string, number> {
  const out = new Map<string, number>();
  const readable = nodes.filter((n) => n.readable);
  for (const n of readable) {
    const peerRules = readable.filter((p) => p !== n).map((p) => p.rules);
    const peers = median(peerRules);
    const flagged = findings.some((f) => f.code === "rules-outlier" && f.node === n.node);
    const ratio = peers > 0 ? n.rules / peers : Number.POSITIVE_INFINITY;
    const past = ruleCountOutlier(n.rules, peerRules) !== undefined;
    if (flagged || past) out.set(n.node, ratio);
  }
  return out;
}

function ratioText(ratio: number): string {
  if (!Number.isFinite(ratio)) return "outlier";
  return `outlier: ${ratio >= 10 ? formatCount(ratio) : ratio.toFixed(1)}\u00d7 median`;
}

/** The bar chart: one `g.bar` per node, bar length log10(rules), duplicates as the bar's share. */
export function renderRuleChart(
  nodes: readonly NodeSummary[],
  outliers: ReadonlyMap<string, number>,
): string {
  const max = Math.max(10, ...nodes.map((n) => n.rules));
  const decades = Math.ceil(Math.log10(max));
  const scale = (v: number) => (v <= 0 ? 0 : (Math.log10(Math.max(1, v)) / decades) * BAR_W);
  const width = LABEL_W + BAR_W + 170;
  const height = TOP + nodes.length * ROW_H + 8;
  const ticks: string[] = [];
  for (let k = 0; k <= decades; k++) {
    const x = LABEL_W + (k / decades) * BAR_W;
    const label = k < 3 ? String(10 ** k) : k < 6 ? `${10 ** (k - 3)}k` : `${10 ** (k - 6)}M`;
    ticks.push(
      `<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${height - 4}"/><text x="${x}" y="${TOP - 10}" text-anchor="middle">${label}</text>`,
    );
  }
  const bars = nodes.map((n, i) => {
    const y = TOP + i * ROW_H;
    const out = outliers.get(n.node);
    const cls = `bar${out === undefined ? "" : " outlier"}${n.readable ? "" : " unreadable"}`;
    const tip = n.readable
      ? `${n.node}: ${formatCount(n.rules)} rules, ${formatCount(n.duplicateRules)} exact duplicates`
      : `${n.node}: rules unreadable`;
    const len = scale(n.rules);
    const dupLen = n.rules > 0 ? (len * Math.min(n.duplicateRules, n.rules)) / n.rules : 0;
    const parts = [
      `<g class="${cls}" data-node-index="${i}"><title>${e(tip)}</title>`,
      `<text class="node-label" x="${LABEL_W - 8}" y="${y + 17}" text-anchor="end">${e(clip(n.node, 26))}</text>`,
    ];
    if (!n.readable) {
      parts.push(`<text class="value" x="${LABEL_W + 4}" y="${y + 17}">unreadable</text></g>`);
      return parts.join("");
    }
    parts.push(
      `<rect class="bar-total" x="${LABEL_W}" y="${y + 5}" width="${len.toFixed(1)}" height="${ROW_H - 10}" rx="2"/>`,
    );
    if (dupLen > 0) {
      parts.push(
        `<rect class="bar-dup" x="${(LABEL_W + len - dupLen).toFixed(1)}" y="${y + 5}" width="${dupLen.toFixed(1)}" height="${ROW_H - 10}"/>`,
      );
    }
    parts.push(`<text class="value" x="${LABEL_W + len + 6}" y="${y + 18}">${formatCount(n.rules)}</text>`);
    if (out !== undefined) {
      parts.push(
        `<text class="outlier-label" x="${LABEL_W + len + 64}" y="${y + 18}">\u26a0 ${e(ratioText(out))}</text>`,
      );
    }
    parts.push("</g>");
    return parts.join("");
  });
  return [
    `<div class="chart-wrap"><svg id="rule-chart" role="img" aria-labelledby="rule-chart-t" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="rule-chart-t">Rules per node, log scale; the orange end of a bar is the share of exact duplicates</title>`,
    `<g class="axis">${ticks.join("")}</g>`,
    bars.join(""),
    "</svg></div>",
    `<p class="legend"><span><span class="swatch sw-total"></span>rules (log scale)</span><span><span class="swatch sw-dup"></span>share that is exact duplicates</span><span><span class="swatch sw-out"></span>outlier</span></p>`,
  ].join("");
}

/** The node table: counts, iptables version and backend, kube-proxy's mode, era and health, known bugs. */
export function renderNodeTable(
  nodes: readonly NodeSummary[],
  outliers: ReadonlyMap<string, number>,
): string {
  const rows = nodes.map((n) => {
    const out = outliers.get(n.node);
    const bugs = n.knownBugs.length === 0 ? "none known" : n.knownBugs.join(", ");
    const version =
      n.iptablesVersion ?? (n.header?.version === undefined ? "unknown" : `v${n.header.version}`);
    const status = !n.readable ? "unreadable" : out !== undefined ? ratioText(out) : "ok";
    const k = n.kubeProxy;
    const health = k?.health === undefined ? "" : `<div class="hint">${e(k.health.summary)}</div>`;
    return [
      `<tr${out === undefined ? "" : ` class="row-outlier"`}>`,
      `<th scope="row">${e(n.node)}</th>`,
      `<td class="num">${n.readable ? formatCount(n.rules) : "\u2014"}</td>`,
      `<td class="num">${n.readable ? formatCount(n.duplicateRules) : "\u2014"}</td>`,
      `<td class="num">${n.readable ? formatCount(n.chains) : "\u2014"}</td>`,
      `<td class="mono">${e(version)}</td>`,
      `<td>${e(n.header?.backend ?? "unknown")}</td>`,
      // How the mode was decided matters when it is not plain iptables mode (nothing is checked then).
      k === undefined
        ? "<td>\u2014</td>"
        : `<td>${e(k.mode)}${k.mode === "iptables" ? "" : `<div class="hint">${e(k.modeReason)}</div>`}</td>`,
      `<td>${e(k?.era?.label ?? "\u2014")}${health}</td>`,
      `<td>${e(bugs)}</td>`,
      `<td>${e(status)}</td>`,
      `<td class="mono">${e(n.file)}</td></tr>`,
    ].join("");
  });
  return [
    `<table class="nodes"><caption class="hint">iptables state per node</caption><thead><tr>`,
    `<th scope="col">Node</th><th scope="col">Rules</th><th scope="col">Duplicates</th><th scope="col">Chains</th>`,
    `<th scope="col">iptables</th><th scope="col">Backend</th><th scope="col">Proxy mode</th><th scope="col">kube-proxy</th><th scope="col">Known bugs</th><th scope="col">Status</th><th scope="col">Dump</th>`,
    `</tr></thead><tbody>${rows.join("")}</tbody></table>`,
  ].join("");
}
