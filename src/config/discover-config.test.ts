// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
import { describe, expect, it } from "vitest";
import { DEMO_BOOTSTRAP_YML } from "./demo-app-jar.ts";
import { discoverConfig } from "./discover-config.ts";
import type { EnvVarValue } from "./property-sources.ts";

const BOOT = [{ path: "BOOT-INF/classes/bootstrap.yml", text: DEMO_BOOTSTRAP_YML }];

describe("discoverConfig()", () => {
  it("gives the incident's defaults with no environment, each part with its origin", () => {
    const r = discoverConfig(BOOT);
    expect(r.files).toEqual(["BOOT-INF/classes/bootstrap.yml"]);
    expect(r.unresolved).toEqual([]);
    expect(r.endpoints.find((e) => e.property === "spring.cloud.nacos.discovery.server-addr")).toEqual({
      property: "spring.cloud.nacos.discovery.server-addr",
      value: "eopx-register:8848",
      host: "eopx-register",
      port: 8848,
      origin: [
        {
          part: "eopx-register",
          from: "default",
          placeholder: "NACOS_HOST",
          file: "BOOT-INF/classes/bootstrap.yml",
          line: 9,
        },
        {
          part: "8848",
          from: "default",
          placeholder: "NACOS_PORT",
          file: "BOOT-INF/classes/bootstrap.yml",
          line: 9,
        },
      ],
    });
    expect(
      r.endpoints.find((e) => e.property === "spring.cloud.nacos.config.server-addr")?.origin[0]?.line,
    ).toBe(14);
  });

  it("gives the pod IP when NACOS_HOST is set, and the default it overrode", () => {
    const env = new Map<string, EnvVarValue>([
      ["NACOS_HOST", { name: "NACOS_HOST", value: "10.42.1.17", source: "--env" }],
    ]);
    const ep = discoverConfig(BOOT, { env }).endpoints.find(
      (e) => e.property === "spring.cloud.nacos.discovery.server-addr",
    );
    expect(ep?.value).toBe("10.42.1.17:8848");
    expect(ep?.origin[0]).toEqual({
      part: "10.42.1.17",
      from: "env",
      placeholder: "NACOS_HOST",
      env: "NACOS_HOST",
      envSource: "--env",
      overrides: "eopx-register",
      file: "BOOT-INF/classes/bootstrap.yml",
      line: 9,
    });
  });

  it("does not apply a default when the variable comes from a Secret, and never shows a value", () => {
    const env = new Map<string, EnvVarValue>([
      ["NACOS_HOST", { name: "NACOS_HOST", secret: { name: "nacos", key: "host" } }],
    ]);
    const r = discoverConfig(BOOT, { env });
    expect(r.endpoints.some((e) => e.property.endsWith("server-addr"))).toBe(false);
    expect(r.unresolved).toContainEqual(
      expect.objectContaining({
        property: "spring.cloud.nacos.discovery.server-addr",
        placeholder: "NACOS_HOST",
        reason: "secret",
      }),
    );
    expect(JSON.stringify(r)).toContain('Secret \\"nacos\\" key \\"host\\"');
  });

  it("reports cycles, unterminated and unresolvable placeholders without throwing", () => {
    const r = discoverConfig([
      { path: "application.properties", text: "a=${b}\nb=${a}\nc=${open\nd=${missing}\n" },
    ]);
    expect(r.unresolved.map((u) => [u.property, u.reason, u.line])).toEqual([
      ["a", "cycle", 2],
      ["b", "cycle", 1],
      ["c", "unterminated", 3],
      ["d", "unresolvable", 4],
    ]);
    expect(r.unresolved[0]!.message).toBe('Circular placeholder reference "a": a -> b -> a');
  });

  it("stops a reference explosion instead of growing without bound", () => {
    const lines = ["a0=xxxxxxxxxxxxxxxx"];
    for (let i = 1; i < 40; i++) lines.push(`a${i}=\${a${i - 1}}\${a${i - 1}}`);
    const r = discoverConfig([{ path: "application.properties", text: lines.join("\n") }]);
    expect(r.unresolved.some((u) => u.message.startsWith("Resolution stopped"))).toBe(true);
  });

  it("reports a YAML syntax error with file and line and keeps the other files", () => {
    const r = discoverConfig([...BOOT, { path: "BOOT-INF/classes/application.yml", text: "a: b\nc: [\n" }]);
    expect(r.errors).toEqual([
      expect.objectContaining({ file: "BOOT-INF/classes/application.yml", line: 3 }),
    ]);
    expect(r.endpoints.length).toBe(2);
  });
});

describe("discoverConfig() with Kubernetes service links", () => {
  it("reports the classic NACOS_PORT=tcp://... clash of a Service named nacos as a malformed address", () => {
    const env = new Map<string, EnvVarValue>([
      [
        "NACOS_PORT",
        { name: "NACOS_PORT", value: "tcp://10.43.0.5:8848", source: "service link of Service eopx/nacos" },
      ],
    ]);
    const r = discoverConfig(BOOT, { env });
    expect(r.endpoints.filter((e) => e.property.endsWith("server-addr"))).toEqual([]);
    expect(r.unresolved[0]).toEqual({
      property: "spring.cloud.nacos.discovery.server-addr",
      reason: "malformed",
      message:
        'Cannot use "eopx-register:tcp://10.43.0.5:8848" as host:port: it comes from NACOS_PORT (service link of Service eopx/nacos)',
      file: "BOOT-INF/classes/bootstrap.yml",
      line: 9,
    });
  });
});
