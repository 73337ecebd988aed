import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
    expect(r.out).toMatch(/^verdict: reachable$/m);
  });

  it("exits 3, never 0, when the client's node directory or dump is missing (issue 12 item 1)", async () => {
    const partial = join(dir, "partial");
    await cp(join(dir, "demo"), partial, { recursive: true });
    await rm(join(partial, "nodes/master1"), { recursive: true });
    const noDir = run("--bundle", partial, "--from", DEMO_HEALTHY_FROM, "--to", DEMO_TO);
    expect(noDir.code).toBe(3);
    expect(noDir.out).toMatch(/^VERDICT: UNDECIDED at client-node/m);
    expect(noDir.out).not.toMatch(/VERDICT: (OK|REACHABLE)/);
    expect(noDir.out).toContain("netdoctor collect --nodes master1");
    await cp(join(dir, "demo", "nodes/master1"), join(partial, "nodes/master1"), { recursive: true });
    await rm(join(partial, "nodes/master1/iptables-save.txt"));
    const json = JSON.parse(
      run("--bundle", partial, "--from", DEMO_HEALTHY_FROM, "--to", DEMO_TO, "-o", "json").out,
    );
    // host-firewall first: nft-ruleset.json shows iptables-nft's tables only as xt statements.
    expect(json).toMatchObject({ ok: false, verdict: "undecided", undecidedAt: "host-firewall" });
    const steps = json.steps as { check: string; status: string; missing?: string }[];
    expect(steps.find((s) => s.check === "node-dataplane")).toMatchObject({
      status: "undecided",
      missing: "nodes/master1/iptables-save.txt",
    });
  });

  it("exits 0 with config at risk when the pinned gateway runs on a healthy node (issue 12 item 2)", async () => {
    const moved = join(dir, "moved");
    await cp(join(dir, "demo"), moved, { recursive: true });
    const file = join(moved, "cluster/pods.json");
    const list = JSON.parse(await readFile(file, "utf8"));
    const gw = list.items.find((p: { metadata: { name: string } }) => DEMO_FROM.endsWith(p.metadata.name));
    // Rescheduled on master1: a new IP from master1's pod CIDR (10.42.0.0/24), unused there.
    gw.spec.nodeName = "master1";
    gw.status.hostIP = "192.168.10.11";
    gw.status.podIP = "10.42.0.50";
    gw.status.podIPs = [{ ip: "10.42.0.50" }];
    await writeFile(file, JSON.stringify(list, null, 4));
    const r = run("--bundle", moved, "--from", DEMO_FROM, "--to", DEMO_TO);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VERDICT: REACHABLE\nAT RISK: config /m);
    expect(r.out).toMatch(/^ {2}\[risk\] config {10}env NACOS_HOST/m);
  });

  it("exits 3 for a destination outside the cluster, and 2 with one line for a URL or IPv6 (issue 12 item 3)", () => {
    const b = join(dir, "demo");
    const google = run("--bundle", b, "--from", DEMO_HEALTHY_FROM, "--to", "google.com:443");
    expect(google.code).toBe(3);
    expect(google.out).toContain('"google.com" is outside the cluster');
    const typo = run("--bundle", b, "--from", DEMO_HEALTHY_FROM, "--to", "eopx-registr:8848");
    expect(typo.code).toBe(3);
    expect(typo.out).toContain("did you mean eopx/eopx-register?");
    const url = run("--bundle", b, "--from", DEMO_HEALTHY_FROM, "--to", "http://eopx-register:8848");
    expect(url.code).toBe(2);
    expect(url.err).toBe(
      'netdoctor: Cannot use --to "http://eopx-register:8848": give HOST:PORT without a scheme or path, e.g. --to eopx-register:8848\n',
    );
    const v6 = run("--bundle", b, "--from", DEMO_HEALTHY_FROM, "--to", "[fd00::1]:8848");
    expect(v6.code).toBe(2);
    expect(v6.err).toMatch(
      /^netdoctor: Cannot use --to "\[fd00::1\]:8848": IPv6 destinations are not supported yet.*\n$/,
    );
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
