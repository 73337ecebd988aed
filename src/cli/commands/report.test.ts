// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's locator.innerText() is the rendered text a reader sees, which is what these tests check
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDemoBundle } from "../../collect/demo-bundle.ts";
import { diagnoseBundleDir } from "../../collect/diagnose-bundle-dir.ts";
import { readReportInput } from "../../collect/read-report-input.ts";
import { DEMO_FROM, DEMO_HEALTHY_FROM, DEMO_TO } from "../../demo/incident.ts";
import { renderHtml } from "../../report/render-html.ts";
import { commandUnavailable, skipBecause } from "../../testing/capabilities.ts";
import { CHROMIUM_LAUNCH } from "../../testing/chromium-options.ts";

const CLI = join(process.cwd(), "dist/netdoctor.mjs");
const ARTIFACTS = join(process.cwd(), "artifacts", "report");
let dir = "";
let demo = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nd-report-cli-"));
  demo = join(dir, "demo");
  await writeDemoBundle(demo);
  if (!existsSync(CLI)) execFileSync("npm", ["run", "build"], { stdio: "ignore" });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(...args: string[]) {
  const r = spawnSync("node", [CLI, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("readReportInput() on the demo bundle", () => {
  it("adds the client node's traced chains and each node's Service chains, bounded in size", async () => {
    const d = await diagnoseBundleDir(demo, { from: DEMO_FROM, to: DEMO_TO });
    const input = await readReportInput(demo, d);
    expect(input.collectedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const agent = input.ruleViews!.find((v) => v.node === "prod-agent1")!;
    const services = agent.chains.find((c) => c.table === "nat" && c.chain === "KUBE-SERVICES")!;
    expect(services.rules.some((r) => r.mark === "trace" && r.text.includes("-d 10.43.176.183/32"))).toBe(
      true,
    );
    const sep = agent.chains.find((c) =>
      c.rules.some((r) => r.text.includes("--to-destination 10.42.2.17:8848")),
    );
    expect(sep).toBeDefined();
    // The 179,000 leaked rules stay out: only cited lines of those chains are shown.
    expect(JSON.stringify(input.ruleViews).length).toBeLessThan(200_000);
    expect(input.ruleViews!.map((v) => v.node).sort()).toEqual(["master1", "master2", "prod-agent1"]);
  });
});

describe("netdoctor report", () => {
  it("writes the page for a question and exits 1 when the path is broken", () => {
    const file = join(dir, "r.html");
    const r = run("report", "--bundle", demo, "--from", DEMO_FROM, "--to", DEMO_TO, "--html", file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^netdoctor: wrote .*r\.html \(\d+ KB\): problems found\n$/);
    const html = readFileSync(file, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("10.42.2.17:8848");
  });

  it("exits 0 for a pod on a healthy node and writes to stdout with --html -", () => {
    const r = run("report", "--bundle", demo, "--from", DEMO_HEALTHY_FROM, "--to", DEMO_TO, "--html", "-");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`class="verdict ok"`);
  });

  it("is also diagnose -o html", () => {
    const r = run("diagnose", "--bundle", demo, "-o", "html");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^<!doctype html>/);
    expect(r.out).toContain("Full check of every Service on every node");
  });

  it.each([
    [["--demo", "--bundle", "b", "--html", "x.html"], "give only one of --bundle DIR, --demo or --live"],
    [["--demo", "--from", "a/b", "--html", "x.html"], "--from and --to go together"],
    [["--demo"], "--html FILE is required"],
    [
      ["--demo", "--html", "/nonexistent-dir/r.html"],
      'Cannot write the report to "/nonexistent-dir/r.html": no such file or directory',
    ],
  ])("rejects %j with exit 2", (args, message) => {
    const r = run("report", ...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });
});

const skip = skipBecause(commandUnavailable("chromium"), "demo report browser test");

describe.skipIf(skip)("the demo report in headless Chromium", () => {
  it("renders, shows the broken link to the stale pod IP and its evidence, one bar per node", async () => {
    const d = await diagnoseBundleDir(demo, { from: DEMO_FROM, to: DEMO_TO });
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, "demo.html");
    writeFileSync(file, renderHtml(await readReportInput(demo, d)));
    const browser = await chromium.launch(CHROMIUM_LAUNCH);
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("request", (r) => requests.push(r.url()));
      const url = pathToFileURL(file).href;
      await page.goto(url);
      expect(await page.locator("#verdict").innerText()).toContain("prod-agent1");
      const link = page.locator('#path-diagram g.edge[data-broken="true"]');
      expect(await link.count()).toBe(1);
      const target = page.locator('#path-diagram g.box[data-broken="true"]');
      expect(await target.locator("title").textContent()).toContain("10.42.2.17:8848");
      await link.click();
      const panel = page.locator(`#${await link.getAttribute("aria-controls")}`);
      const text = await panel.innerText();
      expect(text).toMatch(/nodes\/prod-agent1\/iptables-save\.txt:\d+/);
      expect(text).toContain("--to-destination 10.42.2.17:8848");
      expect(await page.locator("#rule-chart g.bar").count()).toBe(d.nodes.length);
      expect(await page.locator("#rule-chart g.bar.outlier .node-label").allTextContents()).toEqual([
        "prod-agent1",
      ]);
      await page.screenshot({ path: join(ARTIFACTS, "demo.png"), fullPage: true });
      if (process.env.NETDOCTOR_UPDATE_SCREENSHOT === "1") {
        // The README's picture: the path with the broken link's evidence open beside it.
        await page.evaluate(() => document.getElementById("path-h")?.scrollIntoView());
        await page.screenshot({ path: join(process.cwd(), "docs", "report-demo.png"), type: "png" });
      }
      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  });
});
