import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";

const CLI = resolve("dist/netdoctor.mjs");
const work = mkdtempSync(join(tmpdir(), "nd-start-up-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A duplicated rule: both commands find it (exit 1, "problems found") and fix writes its plan.
const DUMP = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A INPUT -j ACCEPT\nCOMMIT\n";

/**
 * Node's built-in modules the command loaded beyond a bare `node` (process.moduleLoadList, read at
 * exit by a preloaded script), with the command's exit status.
 */
function builtinsLoaded(args: string[]): { status: number | null; loaded: Set<string> } {
  const report = join(work, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const preload = join(work, "list-modules.cjs");
  writeFileSync(
    preload,
    `const fs = require("node:fs"); process.on("exit", () => fs.writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList)));\n`,
  );
  const r = spawnSync(process.execPath, ["-r", preload, CLI, ...args], { encoding: "utf8" });
  const names = (JSON.parse(readFileSync(report, "utf8")) as string[])
    .filter((m) => m.startsWith("NativeModule "))
    .map((m) => m.slice("NativeModule ".length));
  return { status: r.status, loaded: new Set(names) };
}

// What the dump commands do not need: zlib (only gzipped dumps), crypto and child_process (commander
// loads it for executable subcommands, which netdoctor has none of). Each costs milliseconds of
// every run, on the node that is already sick.
describe("start-up of the dump commands (dist/netdoctor.mjs)", () => {
  test("scan and fix of a plain dump load neither zlib, nor crypto, nor child_process", () => {
    const dump = join(work, "plain.txt");
    writeFileSync(dump, DUMP);
    for (const args of [
      ["scan", "-o", "json", dump],
      ["fix", "duplicates", "--dump", dump, "--out", join(work, "plan/"), "-o", "json"],
    ]) {
      const { status, loaded } = builtinsLoaded(args);
      expect(status, args.join(" ")).toBe(1);
      for (const m of ["zlib", "crypto", "child_process"])
        expect(loaded.has(m), `${args[0]}: ${m}`).toBe(false);
    }
  });

  test("a gzipped dump still loads zlib and is read", () => {
    const dump = join(work, "plain.txt.gz");
    writeFileSync(dump, gzipSync(DUMP));
    const { status, loaded } = builtinsLoaded(["scan", "-o", "json", dump]);
    expect(status).toBe(1);
    expect(loaded.has("zlib")).toBe(true);
  });
});
