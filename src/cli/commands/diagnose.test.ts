import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_FROM, DEMO_HEALTHY_FROM, DEMO_TO } from "../../demo/incident.ts";

const CLI = join(process.cwd(), "dist/netdoctor.mjs");
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nd-diagnose-cli-"));
  if (!existsSync(CLI)) execFileSync("npm", ["run", "build"], { stdio: "ignore" });
  execFileSync("node", [CLI, "demo", "--out", join(dir, "demo")], { stdio: "pipe" });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(...args: string[]) {
  const r = spawnSync("node", [CLI, "diagnose", ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache") },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("netdoctor diagnose on the demo bundle", () => {
  it("prints the verdict (golden text) and exits 1", async () => {
    const r = run("--bundle", join(dir, "demo"), "--from", DEMO_FROM, "--to", DEMO_TO);
    expect(r.code).toBe(1);
    await expect(r.out).toMatchFileSnapshot("../../../testdata/golden/diagnose-demo.txt");
  });

  it("answers the JSON contract (golden) with the issue's findings on prod-agent1 only", async () => {
    const r = run("--bundle", join(dir, "demo"), "--from", DEMO_FROM, "--to", DEMO_TO, "-o", "json");
    const d = JSON.parse(r.out);
    expect(d.ok).toBe(false);
    expect(d.brokenAt).toBe("node-dataplane");
    for (const code of ["endpoint-stale", "rules-duplicated", "rules-outlier", "iptables-known-bug"]) {
      const f = d.findings.filter((x: { code: string }) => x.code === code);
      expect(f.length, code).toBeGreaterThan(0);
      expect(
        f.every((x: { node: string }) => x.node === "prod-agent1"),
        code,
      ).toBe(true);
    }
    expect(
      d.findings.some(
        (x: { code: string; message: string }) =>
          x.code === "config-pod-ip" && x.message.includes("NACOS_HOST"),
      ),
    ).toBe(true);
    await expect(r.out).toMatchFileSnapshot("../../../testdata/golden/diagnose-demo.json");
  });

  it("exits 0 for the same question from a pod on a healthy node", () => {
    const r = run("--bundle", join(dir, "demo"), "--from", DEMO_HEALTHY_FROM, "--to", DEMO_TO, "-o", "yaml");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok: true$/m);
  });

  it("exits 2 with one line for usage and input errors", () => {
    const missing = run("--bundle", join(dir, "nope"));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^netdoctor: Cannot read bundle .*nope: no such file or directory\n$/);
    const pod = run("--bundle", join(dir, "demo"), "--from", "eopx/eopx-gateway", "--to", DEMO_TO);
    expect(pod.code).toBe(2);
    expect(pod.err).toMatch(
      /^netdoctor: Cannot find pod eopx\/eopx-gateway in cluster\/pods\.json: did you mean eopx\/eopx-gateway-7d9c6b8f5-x4kq2\?\n$/,
    );
    expect(run("--from", DEMO_FROM).code).toBe(2);
  });

  it("--demo generates the demo into the cache on first use and answers the full check", () => {
    const r = run("--demo", "-o", "json");
    expect(r.code).toBe(1);
    const d = JSON.parse(r.out);
    expect(d.question).toBeUndefined();
    expect(d.brokenAt).toBe("node-dataplane");
    expect(new Set(d.findings.map((f: { node?: string }) => f.node))).toEqual(new Set(["prod-agent1"]));
    expect(readdirSync(join(dir, "cache")).some((f) => f.startsWith("netdoctor-demo-"))).toBe(true);
  });
});
