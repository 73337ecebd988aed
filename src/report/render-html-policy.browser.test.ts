// biome-ignore-all lint/style/noRestrictedImports: the browser test writes the report to disk to open it from a file:// URL
// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's locator.innerText() is the rendered text a reader sees, which is what these tests check
/**
 * The HTML report's path diagram for NetworkPolicy, in headless Chromium: the demo cluster with a
 * policy on eopx-register, its nodes' iptables-save and ipset save printed by the real tools
 * (src/testing/netpol-demo-bundle.ts). The NetworkPolicy box names the deciding policy; its panel
 * shows the node rule that matched and the ipset lines, read back from the bundle's files.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { readReportInput } from "../collect/read-report-input.ts";
import { DEMO_FROM } from "../demo/incident.ts";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { CHROMIUM_LAUNCH } from "../testing/chromium-options.ts";
import { type NetpolVariant, writeNetpolDemoBundle } from "../testing/netpol-demo-bundle.ts";
import { ipsetNetnsUnavailable } from "../testing/netpol-ipset-netns.ts";
import { renderHtml } from "./render-html.ts";

const skip = skipBecause(
  commandUnavailable("chromium") ?? ipsetNetnsUnavailable(),
  "HTML report NetworkPolicy browser tests",
);
const ARTIFACTS = join(process.cwd(), "artifacts", "report");

/** The line `file:line` names in the bundle. */
function lineOf(dir: string, where: string): string {
  const [file, line] = where.split(":") as [string, string];
  return readFileSync(join(dir, file), "utf8").split("\n")[Number(line) - 1] ?? "";
}

describe.skipIf(skip)("HTML report: the NetworkPolicy that decides, on the path diagram", () => {
  let browser: Browser;
  let root = "";
  const pages: Page[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    root = await mkdtemp(join(tmpdir(), "nd-netpol-report-"));
    browser = await chromium.launch(CHROMIUM_LAUNCH);
  });
  afterAll(async () => {
    for (const p of pages) await p.context().close();
    await browser?.close();
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  async function openReport(
    variant: NetpolVariant,
  ): Promise<{ page: Page; dir: string; problems: string[] }> {
    const dir = join(root, variant);
    await writeNetpolDemoBundle(dir, variant);
    const d = await diagnoseBundleDir(dir, { from: DEMO_FROM, to: "eopx-register:8848" });
    const file = join(ARTIFACTS, `netpol-${variant}.html`);
    writeFileSync(file, renderHtml(await readReportInput(dir, d)));
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    pages.push(page);
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    await expect.poll(() => page.getAttribute("html", "data-ready")).toBe("true");
    return { page, dir, problems };
  }

  it("marks the policy box as the first broken link; its panel shows the policy, the REJECT rule and the ipset", async () => {
    const { page, dir, problems } = await openReport("deny");
    const box = page.locator("#path-diagram g.box.policy");
    expect(await box.count()).toBe(1);
    expect(await box.getAttribute("data-broken")).toBe("true");
    expect(await box.locator("text.title").allTextContents()).toContain("eopx/register-from-gateway");
    await box.click();
    const panel = page.locator(`#${await box.getAttribute("aria-controls")}`);
    expect(await panel.isVisible()).toBe(true);
    const text = await panel.innerText();
    expect(text).toContain("NetworkPolicy: eopx/register-from-gateway \u2014 first broken link");
    expect(text).toContain("netpol-denied");
    const rule = /nodes\/master2\/iptables-save\.txt:\d+/.exec(text)?.[0];
    expect(rule).toBeDefined();
    expect(lineOf(dir, rule!)).toMatch(/^-A KUBE-POD-FW-\S+ .* -j REJECT/);
    const sets = [...text.matchAll(/nodes\/master2\/ipset-save\.txt:\d+/g)].map((m) => lineOf(dir, m[0]));
    expect(sets).toContainEqual(expect.stringMatching(/^add KUBE-SRC-\S+ 10\.42\.2\.31 timeout 0$/));
    await page.screenshot({ path: join(ARTIFACTS, "netpol-deny.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("shows the allowing policy and the node's marking rule when the policy admits the port", async () => {
    const { page, dir, problems } = await openReport("allow");
    const box = page.locator("#path-diagram g.box.policy");
    expect(await box.getAttribute("class")).toContain("ok");
    expect(await box.locator("text.title").allTextContents()).toContain("eopx/register-from-gateway");
    await box.click();
    const text = await page.locator(`#${await box.getAttribute("aria-controls")}`).innerText();
    expect(text).toContain("netpol-allowed");
    const rule = /nodes\/master2\/iptables-save\.txt:\d+/.exec(text)?.[0];
    expect(lineOf(dir, rule!)).toMatch(
      /selected by policy name register-from-gateway namespace eopx.* -j MARK/,
    );
    expect(problems).toEqual([]);
  });
});
