// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDemoAppJar } from "../../config/demo-app-jar.ts";
import { skipBecause } from "../../testing/capabilities.ts";
import { parseEnvArg, runConfigDiscovery } from "./config.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-config-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const jar = join(dir, "gw.jar");
writeFileSync(jar, buildDemoAppJar());
const base = { env: [] as string[], profile: [] as string[] };

describe("runConfigDiscovery()", () => {
  it("reads a directory's ./ and ./config/, else its resources folder", async () => {
    const app = join(dir, "app");
    mkdirSync(join(app, "src/main/resources"), { recursive: true });
    writeFileSync(join(app, "src/main/resources/application.yml"), "spring.redis.host: r\n");
    writeFileSync(join(app, "src/main/resources/notes.yml"), "x: y\n");
    const r = await runConfigDiscovery([], { ...base, dir: app });
    expect(r.files).toEqual(["src/main/resources/application.yml"]);
    expect(r.endpoints.map((e) => e.value)).toEqual(["r:6379"]);
    mkdirSync(join(app, "config"));
    writeFileSync(join(app, "config/application.yml"), "spring.redis.host: top\n");
    expect((await runConfigDiscovery([], { ...base, dir: app })).files).toEqual(["config/application.yml"]);
  });

  it("lets --env win and applies --profile", async () => {
    const r = await runConfigDiscovery([], {
      ...base,
      jar,
      env: ["NACOS_HOST=10.0.0.9", "DB_HOST=db.x"],
      profile: ["dev"],
    });
    expect(r.profiles).toEqual(["dev"]);
    expect(r.endpoints.map((e) => e.value)).toEqual(["10.0.0.9:8848", "10.0.0.9:8848", "eopx-redis:6379"]);
  });

  it("refuses ambiguous or incomplete options", async () => {
    await expect(runConfigDiscovery(["a.yml"], { ...base, jar })).rejects.toThrow(
      "give exactly one of --jar FILE, --dir DIR or FILE...",
    );
    await expect(runConfigDiscovery([], { ...base, jar, envFromPod: "a/b" })).rejects.toThrow(
      "Cannot use --env-from-pod without --bundle DIR",
    );
    expect(() => parseEnvArg("=x")).toThrow('Cannot use --env "=x": expected NAME=VALUE');
    expect(parseEnvArg("A=b=c")).toEqual({ name: "A", value: "b=c", source: "--env" });
  });
});

const CLI = resolve("dist/netdoctor.mjs");
const skip = skipBecause(
  existsSync(CLI) ? undefined : "dist/netdoctor.mjs is not built (npm run build)",
  "config CLI tests",
);

describe.skipIf(skip)("netdoctor config (process)", () => {
  function run(...args: string[]) {
    const r = spawnSync(process.execPath, [CLI, "config", ...args], { encoding: "utf8" });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  it("prints the JSON contract and exits 0", () => {
    const r = run("--jar", jar, "-o", "json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.endpoints[0]).toMatchObject({
      property: "spring.cloud.nacos.discovery.server-addr",
      value: "eopx-register:8848",
      port: 8848,
    });
  });

  it("exits 1 on an unresolvable placeholder and 2 on a file that is not a zip or a broken YAML", () => {
    const yml = join(dir, "application.yml");
    writeFileSync(yml, "a: ${nope}\n");
    expect(run(yml).code).toBe(1);
    const notZip = join(dir, "x.jar");
    writeFileSync(notZip, "spring:\n  application:\n    name: not a zip at all\n");
    const r = run("--jar", notZip);
    expect([r.code, r.err.trim()]).toEqual([
      2,
      `netdoctor: Cannot read archive "${notZip}": not a zip file (jar, war or zip): no end of central directory record`,
    ]);
    writeFileSync(yml, "a: [\n");
    const broken = run(yml);
    expect(broken.code).toBe(2);
    expect(broken.err).toContain(`Cannot parse "${yml}" at line 2`);
  });

  it("escapes control characters of hostile values in text output", () => {
    const yml = join(dir, "bootstrap.yml");
    writeFileSync(yml, 'a: "${evil\\e[31m}"\n');
    const r = run(yml);
    expect(r.out).not.toContain("\u001b");
    expect(r.out).toContain('Could not resolve placeholder "evil\\x1b[31m"');
  });

  it("diagnose --jar adds config-pod-ip from the jar's bootstrap.yml on the demo bundle (done-when)", () => {
    const bundle = join(dir, "demo-bundle");
    expect(spawnSync(process.execPath, [CLI, "demo", "--out", bundle]).status).toBe(0);
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        "diagnose",
        "--bundle",
        bundle,
        "--from",
        "eopx/eopx-gateway-7d9c6b8f5-x4kq2",
        "--to",
        "eopx-register:8848",
        "--jar",
        jar,
        "-o",
        "json",
      ],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    const d = JSON.parse(r.stdout) as {
      findings: { code: string; evidence: { file: string; line?: number }[] }[];
    };
    const fromJar = d.findings.filter(
      (f) => f.code === "config-pod-ip" && f.evidence[0]?.file === "gw.jar!/BOOT-INF/classes/bootstrap.yml",
    );
    expect(fromJar.map((f) => f.evidence[0]?.line)).toEqual([9, 14]);
  });
});
