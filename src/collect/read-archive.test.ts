import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { buildDemoAppJar, DEMO_BOOTSTRAP_YML } from "../config/demo-app-jar.ts";
import { discoverConfig } from "../config/discover-config.ts";
import type { EnvVarValue } from "../config/property-sources.ts";
import { ArchiveLimitError, CollectError } from "./collect-error.ts";
import { readArchiveConfig } from "./read-archive.ts";

const dir = mkdtempSync(join(tmpdir(), "nd-config-archive-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe("readArchiveConfig()", () => {
  it("reads the incident's jar: defaults with no env, the pod IP with NACOS_HOST (done-when)", async () => {
    const jar = file(
      "gw.jar",
      zipSync({
        "BOOT-INF/classes/bootstrap.yml": strToU8(DEMO_BOOTSTRAP_YML),
        "BOOT-INF/classes/com/x/A.class": new Uint8Array(1000).fill(7),
      }),
    );
    const { files } = await readArchiveConfig(jar);
    expect(files.map((f) => f.path)).toEqual(["BOOT-INF/classes/bootstrap.yml"]);
    const plain = discoverConfig(files).endpoints.find(
      (e) => e.property === "spring.cloud.nacos.discovery.server-addr",
    );
    expect([plain?.value, plain?.origin.map((o) => o.from)]).toEqual([
      "eopx-register:8848",
      ["default", "default"],
    ]);
    expect(plain?.origin[0]?.line).toBe(9);
    const env = new Map<string, EnvVarValue>([["NACOS_HOST", { name: "NACOS_HOST", value: "10.42.1.17" }]]);
    const pinned = discoverConfig(files, { env }).endpoints.find(
      (e) => e.property === "spring.cloud.nacos.discovery.server-addr",
    );
    expect([pinned?.value, pinned?.origin[0]?.from, pinned?.origin[0]?.env]).toEqual([
      "10.42.1.17:8848",
      "env",
      "NACOS_HOST",
    ]);
  });

  it("reads war, plain jar and config/ locations, and nothing else", async () => {
    const war = file(
      "app.war",
      zipSync({
        "WEB-INF/classes/application.properties": strToU8("a=1\n"),
        "WEB-INF/classes/config/application-dev.yml": strToU8("a: 2\n"),
        "WEB-INF/classes/other.yml": strToU8("a: 3\n"),
        "META-INF/application.yml": strToU8("a: 4\n"),
      }),
    );
    expect((await readArchiveConfig(war)).files.map((f) => f.path)).toEqual([
      "WEB-INF/classes/application.properties",
      "WEB-INF/classes/config/application-dev.yml",
    ]);
    const plain = file("plain.jar", zipSync({ "application.yml": strToU8("a: 1\n") }));
    expect((await readArchiveConfig(plain)).files.map((f) => f.path)).toEqual(["application.yml"]);
  });

  it("reads .properties as ISO-8859-1 like Java", async () => {
    const jar = file("latin.jar", zipSync({ "application.properties": new Uint8Array([0x61, 0x3d, 0xe9]) }));
    expect((await readArchiveConfig(jar)).files[0]?.text).toBe("a=\u00e9");
  });

  it("reads an executable jar with a launch script before the zip", async () => {
    const zip = buildDemoAppJar();
    const script = strToU8('#!/bin/bash\nexec java -jar "$0" "$@"\n');
    const both = new Uint8Array(script.length + zip.length);
    both.set(script);
    both.set(zip, script.length);
    const { files } = await readArchiveConfig(file("exec.jar", both));
    expect(files.map((f) => f.path)).toContain("BOOT-INF/classes/bootstrap.yml");
  });

  it("opens BOOT-INF/lib jars only when asked, one level deep", async () => {
    const inner2 = zipSync({ "application.yml": strToU8("deep: 1\n") });
    const lib = zipSync({
      "application.yml": strToU8("lib: 1\n"),
      "BOOT-INF/lib/deeper.jar": [inner2, { level: 0 }],
    });
    const jar = file(
      "nested.jar",
      zipSync({
        "BOOT-INF/classes/application.yml": strToU8("a: 1\n"),
        "BOOT-INF/lib/lib.jar": [lib, { level: 0 }],
      }),
    );
    expect((await readArchiveConfig(jar)).libraryFiles).toEqual([]);
    const withLibs = await readArchiveConfig(jar, { nested: true });
    expect(withLibs.libraryFiles.map((f) => f.path)).toEqual(["BOOT-INF/lib/lib.jar!/application.yml"]);
    expect((await readArchiveConfig(jar, { nested: true, limits: { maxDepth: 0 } })).libraryFiles).toEqual(
      [],
    );
  });

  it("says clearly that a file is not a zip", async () => {
    const p = file("not.jar", "spring:\n  application:\n    name: x\n");
    await expect(readArchiveConfig(p)).rejects.toThrow(CollectError);
    await expect(readArchiveConfig(p)).rejects.toThrow(
      `Cannot read archive "${p}": not a zip file (jar, war or zip): no end of central directory record`,
    );
    await expect(readArchiveConfig(file("tiny.jar", "PK"))).rejects.toThrow(/not a zip file .*too short/);
    await expect(readArchiveConfig(join(dir, "missing.jar"))).rejects.toThrow(
      `Cannot read archive "${join(dir, "missing.jar")}": no such file or directory`,
    );
  });

  it("refuses a zip bomb by entry count", async () => {
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50; i++) many[`f${i}`] = new Uint8Array(0);
    const p = file("many.zip", zipSync(many));
    await expect(readArchiveConfig(p, { limits: { maxEntries: 20 } })).rejects.toThrow(
      `Cannot read archive "${p}": 50 entries is more than the limit of 20 (zip bomb?)`,
    );
  });

  it("refuses a zip bomb by inflated size, even when the header lies", async () => {
    const big = new Uint8Array(8 * 1024 * 1024).fill(0x61);
    const zip = zipSync({ "BOOT-INF/classes/application.yml": big });
    const p = file("bomb.jar", zip);
    await expect(readArchiveConfig(p, { limits: { maxInflated: 1024 * 1024 } })).rejects.toThrow(
      /Cannot read archive ".*bomb\.jar": inflating "BOOT-INF\/classes\/application\.yml" goes past the limit of 1048576 bytes \(zip bomb\?\)/,
    );
    // Rewrite the declared uncompressed size (central directory) to 10 bytes: the cap still holds.
    const lying = zip.slice();
    const view = new DataView(lying.buffer);
    for (let i = lying.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x02014b50) {
        view.setUint32(i + 24, 10, true);
        break;
      }
    }
    await expect(
      readArchiveConfig(file("liar.jar", lying), { limits: { maxInflated: 1024 * 1024 } }),
    ).rejects.toThrow(ArchiveLimitError);
  });
});
