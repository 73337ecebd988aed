/**
 * Draws the path model as inline SVG (top to bottom, branches side by side) plus one evidence panel per
 * box. Boxes and the broken link are keyboard-reachable buttons that toggle their panel.
 */
import type { Diagnosis } from "../../model/diagnosis.ts";
import { stepText } from "../trace-words.ts";
import { escapeHtml as e } from "./escape.ts";
import { clip, findingCard, where } from "./fragments.ts";
import { type Box, type BoxKind, type BoxStatus, pathModel } from "./path-model.ts";
import { stepState } from "./path-slots.ts";

const BOX_H = 48;
const GAP_Y = 24;
const MARGIN = 16;
const COL_GAP = 24;
const SPINE_W = 340;

const KIND_LABEL: Record<BoxKind, string> = {
  client: "client pod",
  dns: "name resolution",
  service: "Service",
  node: "client's node",
  hop: "chain hop",
  fold: "chain hops",
  host: "node on the path",
  policy: "NetworkPolicy",
  endpoint: "endpoint",
};

const STATUS_MARK: Record<BoxStatus, string> = {
  ok: "\u2713",
  broken: "\u2717",
  cited: "!",
  unknown: "?",
  neutral: "",
};
const STATUS_WORD: Record<BoxStatus, string> = {
  ok: "ok",
  broken: "broken",
  cited: "cited by a finding",
  unknown: "unknown",
  neutral: "",
};

interface Placed {
  readonly box: Box;
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly w: number;
}

function boxSvg(p: Placed): string {
  const { box: b, x, y, w } = p;
  const label = `${KIND_LABEL[b.kind]}: ${b.title}${b.status === "neutral" ? "" : ` (${STATUS_WORD[b.status]})`}. Show evidence`;
  const attrs = [
    `class="box ${b.status} ${b.kind}${b.brokenLink ? " link" : ""}"`,
    `role="button" tabindex="0" aria-expanded="false" aria-controls="ev-${p.id}"`,
    `aria-label="${e(label)}"`,
    b.brokenLink ? `data-broken="true"` : "",
  ].join(" ");
  const titleChars = Math.floor((w - 40) / 7.4);
  const subChars = Math.floor((w - 24) / 6);
  return [
    `<g ${attrs}><title>${e(`${b.title}\n${b.sub}`)}</title>`,
    `<rect x="${x}" y="${y}" width="${w}" height="${BOX_H}" rx="7"/>`,
    `<text class="kind" x="${x + 10}" y="${y + 13}">${e(KIND_LABEL[b.kind])}</text>`,
    STATUS_MARK[b.status] === ""
      ? ""
      : `<text class="title st-${b.status}" x="${x + w - 20}" y="${y + 15}">${STATUS_MARK[b.status]}</text>`,
    `<text class="title" x="${x + 10}" y="${y + 29}">${e(clip(b.title, titleChars))}</text>`,
    `<text class="sub" x="${x + 10}" y="${y + 43}">${e(clip(b.sub, subChars))}</text>`,
    "</g>",
  ].join("");
}

function edgeSvg(
  d: string,
  start: { x: number; y: number },
  end: { x: number; y: number },
  to: Placed,
): string {
  const arrow = `<polygon class="arrow" points="${end.x - 5},${end.y - 8} ${end.x + 5},${end.y - 8} ${end.x},${end.y}"/>`;
  if (!to.box.brokenLink) return `<g class="edge"><path class="line" d="${d}"/>${arrow}</g>`;
  // A transparent rectangle over the whole edge and its label makes the link easy to click.
  const left = Math.min(start.x, end.x) - 12;
  return [
    `<g class="edge broken" role="button" tabindex="0" aria-expanded="false" aria-controls="ev-${to.id}"`,
    ` aria-label="Broken link into ${e(to.box.title)}: show evidence" data-broken="true">`,
    `<title>Broken link: click for the evidence</title>`,
    `<rect class="hit" x="${left}" y="${start.y}" width="${Math.max(start.x, end.x) + 120 - left}" height="${end.y - start.y}"/><path class="line" d="${d}"/>${arrow}`,
    `<text x="${end.x + 10}" y="${end.y - 10}">\u2717 broken link</text></g>`,
  ].join("");
}

function panel(p: Placed): string {
  const b = p.box;
  const parts: string[] = [
    `<section class="panel${b.brokenLink ? " broken" : ""}" id="ev-${p.id}" hidden aria-labelledby="ev-${p.id}-h">`,
    `<h3 id="ev-${p.id}-h">${e(KIND_LABEL[b.kind])}: ${e(b.title)}${b.brokenLink ? " \u2014 first broken link" : ""}</h3>`,
    `<p class="hint">${e(b.sub)}</p>`,
  ];
  if (b.steps.length > 0) {
    parts.push(`<ul class="checks">`);
    for (const s of b.steps) {
      const st = stepState(s);
      parts.push(
        `<li><span class="st st-${st.cls}">${st.label}</span><span class="mono">${e(s.check)}</span><span>${e(s.detail)}</span></li>`,
      );
    }
    parts.push("</ul>");
  }
  if (b.hops.length > 0) {
    parts.push(`<ul class="evidence">`);
    for (const h of b.hops) {
      parts.push(
        `<li><code class="where">${e(where(h.file, h.step.evidence.line))}</code><code>${e(h.step.rule)}\n\u2192 ${e(stepText(h.step))}</code></li>`,
      );
    }
    parts.push("</ul>");
  }
  for (const n of b.notes) parts.push(`<p>${e(n)}</p>`);
  for (const f of b.findings) parts.push(findingCard(f, 4));
  if (b.steps.length + b.hops.length + b.notes.length + b.findings.length === 0) {
    parts.push(`<p class="hint">No check or finding concerns this step.</p>`);
  }
  parts.push("</section>");
  return parts.join("");
}

/** The "Path" section: SVG diagram and evidence panels, or a note when no question was asked. */
export function renderPathSection(d: Diagnosis): string {
  const model = pathModel(d);
  const head = `<section aria-labelledby="path-h"><h2 id="path-h">Path</h2>`;
  if (model === undefined) {
    return `${head}<p class="hint">No question was asked: run with --from NS/POD --to HOST:PORT to draw the path of one connection.</p></section>`;
  }
  const n = Math.max(1, model.branches.length);
  const bw = n === 1 ? SPINE_W : Math.max(200, Math.min(SPINE_W, Math.floor(1040 / n) - COL_GAP));
  const width = Math.max(SPINE_W, n * bw + (n - 1) * COL_GAP) + 2 * MARGIN + 120;
  const cx = width / 2;
  const placed: Placed[] = [];
  let id = 0;
  model.spine.forEach((b, i) => {
    placed.push({ box: b, id: id++, x: cx - SPINE_W / 2, y: MARGIN + i * (BOX_H + GAP_Y), w: SPINE_W });
  });
  const spineBottom = MARGIN + (model.spine.length - 1) * (BOX_H + GAP_Y) + BOX_H;
  const branchTop = spineBottom + GAP_Y + 14;
  const left = cx - (n * bw + (n - 1) * COL_GAP) / 2;
  const columns: Placed[][] = model.branches.map((branch, c) =>
    branch.map((b, r) => ({
      box: b,
      id: id++,
      x: left + c * (bw + COL_GAP),
      y: branchTop + r * (BOX_H + GAP_Y),
      w: bw,
    })),
  );
  const rows = Math.max(0, ...model.branches.map((b) => b.length));
  const height = (rows === 0 ? spineBottom : branchTop + rows * (BOX_H + GAP_Y) - GAP_Y) + MARGIN;

  const edges: string[] = [];
  for (let i = 1; i < placed.length; i++) {
    const from = placed[i - 1]!;
    const to = placed[i]!;
    edges.push(
      edgeSvg(`M${cx} ${from.y + BOX_H}V${to.y}`, { x: cx, y: from.y + BOX_H }, { x: cx, y: to.y }, to),
    );
  }
  for (const col of columns) {
    const first = col[0]!;
    const bx = first.x + first.w / 2;
    const mid = spineBottom + (GAP_Y + 14) / 2;
    edges.push(
      edgeSvg(
        `M${cx} ${spineBottom}V${mid}H${bx}V${first.y}`,
        { x: cx, y: spineBottom },
        { x: bx, y: first.y },
        first,
      ),
    );
    for (let r = 1; r < col.length; r++) {
      const from = col[r - 1]!;
      const to = col[r]!;
      edges.push(
        edgeSvg(`M${bx} ${from.y + BOX_H}V${to.y}`, { x: bx, y: from.y + BOX_H }, { x: bx, y: to.y }, to),
      );
    }
  }
  const all = [...placed, ...columns.flat()];
  const q = d.question;
  const desc = `Path of a connection from ${q?.from ?? "the client"} to ${q?.to ?? "the destination"}`;
  const svg = [
    `<svg id="path-diagram" role="group" aria-label="${e(desc)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">`,
    edges.join(""),
    all.map(boxSvg).join(""),
    "</svg>",
  ].join("");
  return [
    head,
    `<p class="hint">Click a box (or focus it and press Enter) to show its evidence. The red dashed arrow is the first broken link.</p>`,
    // A narrow diagram leaves room for the evidence beside it; a wide one (many endpoints) stacks.
    `<div class="path-layout${width > 620 ? " stacked" : ""}"><div class="diagram-wrap">${svg}</div>`,
    `<div class="panels">${all.map(panel).join("")}</div></div>`,
    "</section>",
  ].join("");
}
