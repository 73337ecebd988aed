// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemoAppJar } from "../config/demo-app-jar.ts";
import { DEMO_FROM, DEMO_TO } from "../demo/incident.ts";
import { checkJarConfig, jarConfigCheck } from "./config-diagnosis.ts";
import { writeDemoBundle } from "./demo-bundle.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";
import { readPodEnvironment } from "./read-pod-env.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-config-diag-"));
const bundle = join(dir, "bundle");
const jar = join(dir, "eopx-gateway.jar");

beforeAll(async () => {
  await writeDemoBundle(bundle);
  writeFileSync(jar, buildDemoAppJar());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkJarConfig() on the demo bundle", () => {
  it("resolves the gateway's jar with the pod's real env and fires config-pod-ip naming the default Service", async () => {
    const { report, findings } = await checkJarConfig(bundle, { from: DEMO_FROM, jar });
    const ep = report.endpoints.find((e) => e.property === "spring.cloud.nacos.discovery.server-addr");
    const pod = await readPodEnvironment(bundle, DEMO_FROM);
    const pinned = pod.env.get("NACOS_HOST")?.value;
    expect(pinned).toMatch(/^10\.42\./);
    expect(ep?.host).toBe(pinned);
    expect(ep?.origin[0]).toMatchObject({
      from: "env",
      env: "NACOS_HOST",
      overrides: "eopx-register",
      line: 9,
    });
    expect(ep?.origin[0]?.envSource).toMatch(/^cluster\/pods\.json:\d+ \(pod eopx\/eopx-gateway-/);
    expect(report.profiles).toEqual(["prod"]);
    expect(findings.map((f) => [f.code, f.service])).toEqual([
      ["config-pod-ip", "eopx/eopx-register"],
      ["config-pod-ip", "eopx/eopx-register"],
    ]);
    expect(findings[0]?.message).toContain(
      'overrides the default "eopx-register" (the Service eopx/eopx-register)',
    );
    expect(findings[0]?.evidence[0]).toEqual({
      file: "eopx-gateway.jar!/BOOT-INF/classes/bootstrap.yml",
      line: 9,
      text: "spring.cloud.nacos.discovery.server-addr: ${NACOS_HOST:eopx-register}:${NACOS_PORT:8848}",
    });
  });

  it("adds the jar's endpoints to the diagnosis' config step and its findings", async () => {
    const diagnosis = await diagnoseBundleDir(bundle, { from: DEMO_FROM, to: DEMO_TO, namespace: "default" });
    const appConfig = await jarConfigCheck(bundle, { from: DEMO_FROM, jar });
    const withJar = await diagnoseBundleDir(bundle, { from: DEMO_FROM, to: DEMO_TO, appConfig });
    const step = withJar.steps.find((s) => s.check === "config");
    // A pinned live pod IP works now and breaks later.
    expect(step?.status).toBe("at-risk");
    expect(step?.detail).toContain("eopx-gateway.jar: 2 config files, 4 endpoints");
    expect(withJar.findings.length).toBe(diagnosis.findings.length + 2);
    expect(
      withJar.findings.filter((f) => f.evidence.some((e) => e.file.startsWith("eopx-gateway.jar!/"))).length,
    ).toBe(2);
  });

  it("says which pod is missing", async () => {
    await expect(checkJarConfig(bundle, { from: "eopx/nope", jar })).rejects.toThrow(
      'Cannot find pod "eopx/nope" in "cluster/pods.json"',
    );
  });
});
