import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { CollectError } from "./collect-error.ts";
import { StagedDir, stagingDirFor } from "./staged-dir.ts";

const work = mkdtempSync(join(tmpdir(), "nd-staged-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("StagedDir", () => {
  test("writes into a hidden sibling and appears whole at commit, also over an empty directory", async () => {
    for (const [name, before] of [
      ["fresh", false],
      ["empty", true],
    ] as const) {
      const out = join(work, name);
      if (before) mkdirSync(out);
      const staged = await StagedDir.create(out, { id: "r1", what: "the bundle", mode: 0o700 });
      expect(staged.path).toBe(stagingDirFor(out, "r1"));
      expect(staged.path).toBe(join(work, `.${name}.partial-r1`));
      writeFileSync(join(staged.path, "bundle.json"), "{}\n");
      expect(existsSync(join(out, "bundle.json"))).toBe(false);
      await staged.commit();
      expect(readdirSync(out)).toEqual(["bundle.json"]);
      expect(existsSync(staged.path)).toBe(false);
    }
  });

  test("discard leaves nothing, and the place can be used again", async () => {
    const out = join(work, "dropped");
    const staged = await StagedDir.create(out, { id: "r2", what: "the bundle" });
    writeFileSync(join(staged.path, "half.json"), "{");
    await staged.discard();
    expect(readdirSync(work).filter((f) => f.includes("dropped"))).toEqual([]);
    const again = await StagedDir.create(out, { id: "r3", what: "the bundle" });
    await again.commit();
    expect(readdirSync(out)).toEqual([]);
  });

  test("refuses a file, a non-empty directory and a missing parent before creating anything", async () => {
    writeFileSync(join(work, "file"), "x");
    mkdirSync(join(work, "full"));
    writeFileSync(join(work, "full", "x"), "x");
    for (const [out, why] of [
      [join(work, "file"), "it is a file, not a directory"],
      [join(work, "full"), "the directory is not empty (pick a new directory, or remove it)"],
      [join(work, "no", "b"), `its parent directory ${join(work, "no")}: no such file or directory`],
    ] as const) {
      const error = await StagedDir.create(out, { id: "r4", what: "the bundle" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CollectError);
      expect((error as Error).message).toBe(`Cannot write the bundle to "${out}": ${why}`);
    }
    expect(readdirSync(work).filter((f) => f.includes(".partial-"))).toEqual([]);
  });
});
