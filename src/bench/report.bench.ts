/**
 * `npm run bench -- report`: the HTML report of a 20-node, 5,000-Service cluster in headless Chromium.
 * Goal (issue "A report people would rather look at"): under 5 MB, and under 2 s from navigation to the
 * verdict on screen. Side by side: opening one node's raw iptables-save dump (what people would otherwise
 * read) in the same browser.
 *
 * Inputs: (1) the whole pipeline on the demo generator's large healthy bundle (src/demo/large-cluster.ts:
 * 20 nodes, 5,000 Services, 50,000 endpoints): `diagnose` full check, rule views, render; (2) a synthetic
 * full-check diagnosis (src/testing/sample-large-report-input.ts `largeInput`) where every one of the 5,000
 * Services has a stale endpoint: the worst case for the page's size, since a healthy cluster's page is
 * small. The raw dump comes from src/bench/generate-dump.ts (5,000 Services with their endpoints).
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { writeBundleFiles } from "../collect/demo-bundle.ts";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { readReportInput } from "../collect/read-report-input.ts";
import { buildBundle } from "../demo/build-bundle.ts";
import { largeClusterSpec } from "../demo/large-cluster.ts";
import { renderHtml } from "../report/render-html.ts";
import { commandUnavailable } from "../testing/capabilities.ts";
import { CHROMIUM_LAUNCH } from "../testing/chromium-options.ts";
import { largeInput } from "../testing/sample-large-report-input.ts";
import { generateDump } from "./generate-dump.ts";

export const name = "HTML report";

const RUNS = 3;
const DIR = resolve(".bench", "report");

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Milliseconds from the start of navigation until `selector` is visible, and the page's own timings. */
async function timeLoad(
  page: Page,
  url: string,
  selector: string,
): Promise<{ wall: number; fcp: number; load: number }> {
  const start = performance.now();
  await page.goto(url, { waitUntil: "commit" });
  await page.locator(selector).first().waitFor({ state: "visible" });
  const wall = performance.now() - start;
  await page.waitForLoadState("load");
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN;
    return { fcp, load: nav?.loadEventEnd ?? Number.NaN };
  });
  return { wall, ...t };
}

export async function run(): Promise<string> {
  const missing = commandUnavailable("chromium");
  if (missing !== undefined) return `## ${name}\n\nNot run: ${missing}.\n`;
  mkdirSync(DIR, { recursive: true });
  const size = { nodes: 20, services: 5_000, endpoints: 50_000 };
  const bundleDir = join(DIR, `bundle-${size.nodes}n-${size.services}s`);
  // Regenerated each run: a cached copy would go stale when the demo generator changes.
  rmSync(bundleDir, { recursive: true, force: true });
  await writeBundleFiles(bundleDir, buildBundle(largeClusterSpec(size)));
  let t0 = performance.now();
  const diagnosis = await diagnoseBundleDir(bundleDir);
  const diagnoseMs = performance.now() - t0;
  t0 = performance.now();
  const bundleHtml = renderHtml(await readReportInput(bundleDir, diagnosis));
  const bundleRenderMs = performance.now() - t0;
  const bundleFile = join(DIR, "report-bundle-20x5000.html");
  writeFileSync(bundleFile, bundleHtml);

  const input = largeInput({ nodes: 20, services: 5_000 });
  t0 = performance.now();
  const html = renderHtml(input);
  const renderMs = performance.now() - t0;
  const reportFile = join(DIR, "report-20x5000.html");
  writeFileSync(reportFile, html);
  const dumpFile = join(DIR, "node-5000-services.txt");
  writeFileSync(dumpFile, [...generateDump({ services: 5_000 })].join(""));

  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    const measure = async (url: string, selector: string) => {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
        const page = await context.newPage();
        runs.push(await timeLoad(page, url, selector));
        await context.close();
      }
      return {
        wall: median(runs.map((r) => r.wall)),
        fcp: median(runs.map((r) => r.fcp)),
        load: median(runs.map((r) => r.load)),
      };
    };
    const worst = await measure(pathToFileURL(reportFile).href, "#verdict");
    const real = await measure(pathToFileURL(bundleFile).href, "#verdict");
    const raw = await measure(pathToFileURL(dumpFile).href, "pre");
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
    const ms = (v: number) => `${Math.round(v)} ms`;
    const row = (label: string, file: string, t: { wall: number; fcp: number; load: number }) =>
      `| ${label} | ${mb(statSync(file).size)} MB | ${ms(t.wall)} | ${ms(t.fcp)} | ${ms(t.load)} |`;
    const worstSize = statSync(reportFile).size;
    const lines = [
      `## ${name}`,
      "",
      `Headless Chromium ${browser.version()}, median of ${RUNS} loads from file://.`,
      "",
      "| page | size | navigation to first element visible | first contentful paint | load event |",
      "| --- | ---: | ---: | ---: | ---: |",
      row(
        `report of the generated bundle (${size.nodes} nodes, ${size.services.toLocaleString("en-US")} Services, ${size.endpoints.toLocaleString("en-US")} endpoints, full check: ${diagnosis.findings.length} finding${diagnosis.findings.length === 1 ? "" : "s"})`,
        bundleFile,
        real,
      ),
      row(
        `report of a synthetic worst case (${input.nodes.length} nodes, ${input.findings.length.toLocaleString("en-US")} findings: every Service has a stale endpoint)`,
        reportFile,
        worst,
      ),
      row("one node's raw iptables-save, 5,000 Services (what people read otherwise)", dumpFile, raw),
      "",
      `In Node: diagnose of the generated bundle ${ms(diagnoseMs)}, rule views + render ${ms(bundleRenderMs)}; render of the worst case ${ms(renderMs)}.`,
      `Goals (worst case): size < 5 MB: ${worstSize < 5 * 1024 * 1024 ? "met" : "NOT met"}; verdict on screen < 2 s: ${worst.wall < 2_000 ? "met" : "NOT met"}. Report vs raw dump load: ${(worst.wall / raw.wall).toFixed(2)}x.`,
      "",
    ];
    return lines.join("\n");
  } finally {
    await browser.close();
  }
}
