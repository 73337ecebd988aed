import { describe, expect, it } from "vitest";
import { DEMO_APPLICATION_YML, DEMO_BOOTSTRAP_YML } from "./demo-app-jar.ts";
import { discoverConfig } from "./discover-config.ts";
import type { EnvVarValue } from "./property-sources.ts";
import { renderConfigText } from "./render-config-text.ts";

const FILES = [
  { path: "BOOT-INF/classes/bootstrap.yml", text: DEMO_BOOTSTRAP_YML },
  { path: "BOOT-INF/classes/application.yml", text: DEMO_APPLICATION_YML },
];

describe("renderConfigText()", () => {
  it("renders the demo app with no env (golden)", async () => {
    await expect(renderConfigText(discoverConfig(FILES))).toMatchFileSnapshot(
      "../../testdata/golden/config-demo.txt",
    );
  });

  it("renders the demo app with the pinned NACOS_HOST and a Secret-backed variable (golden)", async () => {
    const env = new Map<string, EnvVarValue>([
      ["NACOS_HOST", { name: "NACOS_HOST", value: "10.42.1.23", source: "--env" }],
      ["REDIS_HOST", { name: "REDIS_HOST", secret: { name: "redis", key: "host" } }],
    ]);
    const report = discoverConfig(FILES, { env });
    await expect(renderConfigText(report)).toMatchFileSnapshot(
      "../../testdata/golden/config-demo-pinned.txt",
    );
    await expect(`${JSON.stringify(report, null, 2)}\n`).toMatchFileSnapshot(
      "../../testdata/golden/config-demo-pinned.json",
    );
  });
});
