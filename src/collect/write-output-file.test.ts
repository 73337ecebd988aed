import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import { CollectError } from "./collect-error.ts";
import { writeOutputFile } from "./write-output-file.ts";

const work = mkdtempSync(join(tmpdir(), "nd-write-out-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe("writeOutputFile", () => {
  test("writes the whole file with its mode, over an old one, and leaves no hidden sibling", async () => {
    const out = join(work, "report.html");
    writeFileSync(out, "old\n");
    await writeOutputFile(out, "new\n", { what: "the report", mode: 0o600 });
    expect(readFileSync(out, "utf8")).toBe("new\n");
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(work).filter((f) => f.includes(".partial-"))).toEqual([]);
  });

  test("a sibling name already taken (a planted link) is left alone and another name is used", async () => {
    const dir = mkdtempSync(join(work, "clash-"));
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep me\n");
    // The first name tried is the one Math.random gives first: plant a link under it.
    const random = vi.spyOn(Math, "random").mockReturnValueOnce(0.5);
    const planted = join(dir, `.out.txt.partial-${process.pid.toString(36)}${(2 ** 31).toString(36)}`);
    symlinkSync(victim, planted);
    await writeOutputFile(join(dir, "out.txt"), "fresh\n", { what: "the plan" });
    expect(random).toHaveBeenCalledTimes(2);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("fresh\n");
    expect(lstatSync(join(dir, "out.txt")).isSymbolicLink()).toBe(false);
    expect(readFileSync(victim, "utf8")).toBe("keep me\n");
    expect(readlinkSync(planted)).toBe(victim);
  });

  test("a directory that does not exist is one clear error, and nothing is left", async () => {
    const out = join(work, "missing", "out.txt");
    const error = await writeOutputFile(out, "x\n", { what: "the plan" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CollectError);
    expect((error as Error).message).toMatch(/^Cannot write the plan to ".*missing\/out\.txt": /);
    expect(readdirSync(work).filter((f) => f.includes(".partial-"))).toEqual([]);
  });
});
