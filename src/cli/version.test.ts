import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { versionText } from "./version.ts";

const work = mkdtempSync(join(tmpdir(), "nd-version-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function git(...args: string[]): string {
  return execFileSync("git", args, { encoding: "utf8" }).trim();
}

const noGit = skipBecause(
  commandUnavailable("git") ??
    (() => {
      try {
        git("rev-parse", "HEAD");
        return undefined;
      } catch {
        return "not inside a git work tree";
      }
    })(),
  "--version of a build (needs the git commit)",
);

describe.skipIf(noGit)("netdoctor --version of a build (scripts/build.mjs)", () => {
  it("prints the package version, the commit git names for HEAD and the build date", () => {
    const out = join(work, "dist");
    // 2025-01-31T12:00:00Z: SOURCE_DATE_EPOCH is how reproducible builds fix the date.
    execFileSync(process.execPath, ["scripts/build.mjs", "--outdir", out], {
      env: { ...process.env, SOURCE_DATE_EPOCH: "1738324800", NETDOCTOR_COMMIT: "" },
      stdio: "pipe",
    });
    const head = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
    const version = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;
    const printed = execFileSync(process.execPath, [join(out, "netdoctor.mjs"), "--version"], {
      encoding: "utf8",
    });
    expect(printed).toBe(
      `${version} (commit ${head}${dirty ? " with uncommitted changes" : ""}, built 2025-01-31T12:00:00Z)\n`,
    );
    expect(execFileSync(process.execPath, [join(out, "netdoctor.mjs"), "-V"], { encoding: "utf8" })).toBe(
      printed,
    );
  });

  it("names the commit given by NETDOCTOR_COMMIT where git cannot (a source tarball)", () => {
    const out = join(work, "dist-tarball");
    execFileSync(process.execPath, ["scripts/build.mjs", "--outdir", out], {
      env: { ...process.env, SOURCE_DATE_EPOCH: "0", NETDOCTOR_COMMIT: "abc1234" },
      stdio: "pipe",
    });
    const printed = execFileSync(process.execPath, [join(out, "netdoctor.mjs"), "--version"], {
      encoding: "utf8",
    });
    expect(printed).toMatch(/^\d+\.\d+\.\d+ \(commit abc1234, built 1970-01-01T00:00:00Z\)\n$/);
  });
});

describe("versionText()", () => {
  it("marks a build from a modified work tree", () => {
    expect(versionText({ version: "1.2.3", commit: "0a1b2c3", modified: true, date: "d" })).toBe(
      "1.2.3 (commit 0a1b2c3 with uncommitted changes, built d)",
    );
  });
});
