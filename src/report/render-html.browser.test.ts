// biome-ignore-all lint/style/noRestrictedImports: the browser test writes the report to disk to open it from a file:// URL
// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's locator.innerText() is the rendered text a reader sees, which is what these tests check
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { CHROMIUM_LAUNCH } from "../testing/chromium-options.ts";
import { labReportInput } from "../testing/overlay-report-input.ts";
import { largeInput } from "../testing/sample-large-report-input.ts";
import { HOSTILE, incidentInput } from "../testing/sample-report-input.ts";
import { renderHtml } from "./render-html.ts";

const skip = skipBecause(commandUnavailable("chromium"), "HTML report browser tests");
const ARTIFACTS = join(process.cwd(), "artifacts", "report");

interface Opened {
  readonly page: Page;
  readonly url: string;
  /** Console errors and warnings, page errors and dialogs. */
  readonly problems: string[];
  readonly requests: string[];
}

describe.skipIf(skip)("HTML report in headless Chromium", () => {
  let browser: Browser;
  const opened: Page[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch(CHROMIUM_LAUNCH);
  });
  afterAll(async () => {
    for (const p of opened) await p.context().close();
    await browser?.close();
  });

  async function open(name: string, html: string, options: BrowserContextOptions = {}): Promise<Opened> {
    const file = join(ARTIFACTS, `${name}.html`);
    writeFileSync(file, html);
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options });
    const page = await context.newPage();
    opened.push(page);
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on("request", (r) => requests.push(r.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: "load" });
    return { page, url, problems, requests };
  }

  it("renders the incident from file:// with no console error and no request but the page itself", async () => {
    const { page, url, problems, requests } = await open("incident", renderHtml(incidentInput()));
    await expect.poll(() => page.getAttribute("html", "data-ready")).toBe("true");
    expect(await page.locator("#verdict").innerText()).toContain("still DNATs it to 10.42.1.17:8848");
    expect(await page.locator("h2").allInnerTexts()).toEqual([
      "Checks",
      "Path",
      "Findings (5)",
      "Nodes",
      "Rules that matter",
    ]);
    await page.screenshot({ path: join(ARTIFACTS, "incident.png"), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
  });

  it("draws the broken link and reveals its evidence on click, and by keyboard", async () => {
    const { page, problems } = await open("incident-click", renderHtml(incidentInput()));
    const link = page.locator('#path-diagram g.edge[data-broken="true"]');
    await expect.poll(() => link.count()).toBe(1);
    expect(await link.locator("text").textContent()).toContain("broken link");
    const panelId = (await link.getAttribute("aria-controls"))!;
    const panel = page.locator(`#${panelId}`);
    expect(await panel.isVisible()).toBe(false);
    await link.click();
    expect(await panel.isVisible()).toBe(true);
    expect(await link.getAttribute("aria-expanded")).toBe("true");
    const text = await panel.innerText();
    expect(text).toContain("endpoint: 10.42.1.17:8848 \u2014 first broken link");
    expect(text).toContain("nodes/prod-agent1/iptables-save.txt:172389");
    expect(text).toContain("-j DNAT --to-destination 10.42.1.17:8848");
    expect(text).toContain("endpoint-stale");
    // The box it points at controls the same panel; both close it again.
    const box = page.locator(`#path-diagram g.box[aria-controls="${panelId}"]`);
    expect(await box.getAttribute("aria-expanded")).toBe("true");
    await page.screenshot({ path: join(ARTIFACTS, "incident-evidence.png"), fullPage: true });
    await box.click();
    expect(await panel.isVisible()).toBe(false);
    // Keyboard: focus the Service box and press Enter.
    const service = page.locator("#path-diagram g.box.service");
    await service.focus();
    await page.keyboard.press("Enter");
    const servicePanel = page.locator(`#${await service.getAttribute("aria-controls")}`);
    expect(await servicePanel.innerText()).toContain("1 ready endpoint: 10.42.2.31:8848");
    expect(problems).toEqual([]);
  });

  it("draws both nodes of a connection across nodes, the receiver's as the broken link with both nodes' evidence", async () => {
    // The overlay lab's vtep-mac-changed bundle: node-a encapsulates to node-b's old VTEP MAC,
    // node-b drops the frame (the kernel's outcome: a timeout, src/testing/overlay-lab-cases-overlay.ts).
    const input = await labReportInput("vtep-mac-changed", "default/a1", "198.18.2.10:8080");
    const { page, problems } = await open("overlay-two-nodes", renderHtml(input));
    await expect.poll(() => page.getAttribute("html", "data-ready")).toBe("true");
    const nodes = page.locator("#path-diagram g.box.host");
    expect(await nodes.count()).toBe(2);
    const texts = await nodes.allTextContents();
    expect(texts[0]).toContain("node-a");
    expect(texts[0]).toContain("VXLAN to node-b");
    expect(texts[1]).toContain("node-b");
    const broken = page.locator("#path-diagram g.box.host.broken");
    expect(await broken.count()).toBe(1);
    expect(await broken.textContent()).toContain("node-b");
    await broken.click();
    const panel = page.locator(`#${await broken.getAttribute("aria-controls")}`);
    const text = await panel.innerText();
    expect(text).toContain("first broken link");
    expect(text).toContain("nodes/node-b/ip-link.json");
    expect(text).toMatch(/overlay-(neighbor|fdb)-stale/);
    expect(text).toContain("nodes/node-a/");
    await page.screenshot({ path: join(ARTIFACTS, "overlay-two-nodes.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("charts one bar per node on a log scale, the outlier marked, duplicates stacked", async () => {
    const input = incidentInput();
    const { page } = await open("incident-chart", renderHtml(input));
    const bars = page.locator("#rule-chart g.bar");
    expect(await bars.count()).toBe(input.nodes.length);
    const outliers = page.locator("#rule-chart g.bar.outlier");
    expect(await outliers.count()).toBe(1);
    expect(await outliers.locator(".node-label").textContent()).toBe("prod-agent1");
    const widths = await bars.evaluateAll((gs) =>
      gs.map((g) => Number(g.querySelector(".bar-total")?.getAttribute("width"))),
    );
    // log10(180,214) / log10(251) is about 2.2: a linear chart would show 718x.
    expect(widths[1]! / widths[0]!).toBeGreaterThan(2);
    expect(widths[1]! / widths[0]!).toBeLessThan(2.5);
    expect(await page.locator("#rule-chart g.bar.outlier .bar-dup").count()).toBe(1);
    expect(await page.locator("#rule-chart .bar-dup").count()).toBe(1);
    const row = page.locator("table.nodes tr.row-outlier");
    expect(await row.innerText()).toMatch(
      /prod-agent1\s+180,214\s+176,540.*v1\.8\.2 \(nf_tables\).*k3s-io\/k3s#3117/s,
    );
  });

  it("opens a node's rule view with line numbers, and filters findings by severity", async () => {
    const { page, problems } = await open("incident-rules", renderHtml(incidentInput()));
    const button = page.getByRole("button", { name: /^prod-agent1 — 3 chains/ });
    const region = page.locator(`#${await button.getAttribute("aria-controls")}`);
    expect(await region.isVisible()).toBe(false);
    await button.click();
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    expect(await region.locator("tr.mark-evidence td.ln").innerText()).toBe("172389");
    expect(await region.innerText()).toContain("171,876 more rules of this chain not shown");
    const errors = page.locator("#findings article.finding.f-error");
    expect(await errors.first().isVisible()).toBe(true);
    await page.getByRole("button", { name: "error (3)" }).click();
    expect(await errors.first().isVisible()).toBe(false);
    expect(await page.locator("#findings article.finding.f-warning").first().isVisible()).toBe(true);
    expect(problems).toEqual([]);
  });

  it("runs nothing from hostile names and comments and shows them literally", async () => {
    const { page, problems, requests, url } = await open(
      "hostile",
      renderHtml(incidentInput({ hostile: true })),
    );
    // Open every panel and rule view so every hostile string is rendered and visible.
    const ids = await page
      .locator("[aria-controls]")
      .evaluateAll((els) => [...new Set(els.map((el) => el.getAttribute("aria-controls")!))]);
    expect(ids.length).toBeGreaterThan(10);
    for (const id of ids) {
      const control = page.locator(`[aria-controls="${id}"]`).last();
      if ((await control.getAttribute("aria-expanded")) === "false") await control.click();
      expect(await page.locator(`#${id}`).isVisible()).toBe(true);
    }
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("style").count()).toBe(1);
    expect(await page.locator("script").count()).toBe(2);
    expect(await page.evaluate(() => getComputedStyle(document.body).display)).toBe("block");
    const text = await page.locator("main").innerText();
    expect(text).toContain(HOSTILE.service);
    expect(text).toContain(HOSTILE.pod);
    const dnatRule = incidentInput({ hostile: true }).findings[0]!.evidence[0]!.text;
    expect(dnatRule).toContain(JSON.stringify(HOSTILE.comment).slice(1, -1));
    expect(text).toContain(dnatRule);
    // The SVG box of the Service carries the hostile name as text, not markup.
    expect(await page.locator("#path-diagram g.box.service title").textContent()).toContain(HOSTILE.service);
    await page.screenshot({ path: join(ARTIFACTS, "hostile.png"), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
  });

  it("blocks script that is not the page's own through its Content-Security-Policy", async () => {
    const html = renderHtml(incidentInput()).replace(
      "</body>",
      `<script>window.__pwned = "inline"</script><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onerror="window.__pwned='attr'"></body>`,
    );
    const { page, problems } = await open("csp", html);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(problems.some((p) => p.includes("Content Security Policy"))).toBe(true);
    expect(await page.getAttribute("html", "data-ready")).toBe("true");
  });

  it("follows the reader's dark preference and prints the broken link's evidence", async () => {
    const { page } = await open("dark", renderHtml(incidentInput()), { colorScheme: "dark" });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe("rgb(13, 17, 23)");
    await page.screenshot({ path: join(ARTIFACTS, "dark.png") });
    const brokenPanel = page.locator("section.panel.broken");
    expect(await brokenPanel.isVisible()).toBe(false);
    await page.emulateMedia({ media: "print" });
    expect(await brokenPanel.isVisible()).toBe(true);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      "rgb(255, 255, 255)",
    );
    const pdf = await page.pdf({ format: "A4" });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
  });

  it("opens a 20-node, 5,000-Service report with one bar per node and its long lists cut", async () => {
    const { page, problems, requests, url } = await open("large", renderHtml(largeInput()));
    expect(await page.locator("#rule-chart g.bar").count()).toBe(20);
    expect(await page.locator("#rule-chart g.bar.outlier .node-label").allTextContents()).toEqual([
      "worker-03",
    ]);
    expect(await page.locator("#findings article.finding").count()).toBe(201);
    expect(await page.locator("#findings .more").innerText()).toContain("4,800 more endpoint-stale findings");
    expect(await page.locator("#path-h ~ p.hint").first().innerText()).toContain("No question was asked");
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
  });

  it("downloads the embedded diagnosis as JSON", async () => {
    const input = incidentInput({ hostile: true });
    const { page } = await open("download", renderHtml(input));
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: /Download/ }).click(),
    ]);
    const path = join(ARTIFACTS, "download.json");
    await download.saveAs(path);
    const { ruleViews: _drop, ...diagnosis } = input;
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(diagnosis);
  });
});
