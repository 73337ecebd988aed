/**
 * The structure checks of scripts/ (check-layers, check-size, check-test-only), run as `npm test`
 * runs them, on small source trees written here with known violations.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const SCRIPTS = resolve(process.cwd(), "scripts");
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A source tree under a fresh directory: `{ "src/model/a.ts": "text" }`. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "nd-structure-"));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

function run(script: string, root: string, ...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(SCRIPTS, script), ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe("check-layers", () => {
  const root = tree({
    "src/model/packet.ts": 'import { walk } from "../trace/walk.ts";\nexport const p = walk;\n',
    "src/trace/walk.ts": 'import type { X } from "../model/x.ts";\nexport const walk = 1;\n',
    "src/model/x.ts": "export type X = 1;\n",
    "src/trace/walk.test.ts": 'import { bundle } from "../collect/bundle.ts";\n',
    "src/collect/bundle.ts": 'import { demo } from "../demo/demo.ts";\nexport const bundle = demo;\n',
    "src/collect/demo-bundle.ts": 'export { demo } from "../demo/demo.ts";\n',
    "src/demo/demo.ts": 'import type { Index } from "../kube-proxy/index.ts";\nexport const demo = 1;\n',
    "src/kube-proxy/index.ts": "export type Index = 1;\n",
    "src/cli/commands/a.ts": 'import { b } from "./b.ts";\nexport function registerA() {}\n',
    "src/cli/commands/b.ts":
      'import { h } from "./helper.ts";\nexport function registerB() {}\nexport const b = h;\n',
    "src/cli/commands/helper.ts": "export const h = 1;\n",
  });

  it("reports every upward, demo and command-to-command import with its line, and exits 0", () => {
    const r = run("check-layers.mjs", root);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "src/model/packet.ts:1: imports src/trace/walk.ts: trace/ is below model/ in the data flow",
    );
    expect(r.out).toContain(
      "src/collect/bundle.ts:1: imports src/demo/demo.ts: only the demo command and the --demo bundle writer import demo/",
    );
    expect(r.out).toContain(
      "src/demo/demo.ts:1: imports src/kube-proxy/index.ts: demo/ depends only on model/ and text/",
    );
    expect(r.out).toContain(
      "src/cli/commands/a.ts:1: imports src/cli/commands/b.ts: a CLI command imports another command",
    );
    // Allowed: downward imports, tests, the --demo bundle writer, a command's helper module.
    const reported = r.out.split("\n").map((l) => l.split(":")[0]);
    for (const allowed of [
      "src/trace/walk.ts",
      "src/trace/walk.test.ts",
      "src/collect/demo-bundle.ts",
      "src/cli/commands/b.ts",
    ])
      expect(reported).not.toContain(allowed);
    expect(r.out).toContain("check-layers: 4 violations in 4 files");
  });

  it("fails with --strict only when there is a violation", () => {
    expect(run("check-layers.mjs", root, "--strict").code).toBe(1);
    const clean = tree({
      "src/trace/walk.ts": 'import type { X } from "../model/x.ts";\n',
      "src/model/x.ts": "",
    });
    const r = run("check-layers.mjs", clean, "--strict");
    expect([r.code, r.out.trim()]).toEqual([0, "check-layers: 0 violations in 0 files"]);
  });
});

describe("check-size", () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join("\n");
  const root = tree({
    // 80 lines: the limit.
    "src/net/ok.ts": `export function ok() {\n${body(78)}\n}\n`,
    // 81 lines, as an arrow function inside a method.
    "src/net/long.ts": `export class C {\n  m() {\n    return () => {\n${body(79)}\n    };\n  }\n}\n`,
    "src/net/big.ts": `${"// x\n".repeat(301)}`,
    "src/net/big.test.ts": `${"// x\n".repeat(900)}`,
  });

  it("reports files over 300 lines and functions over 80, outside tests", () => {
    const r = run("check-size.mjs", root);
    expect(r.code).toBe(0);
    expect(r.out).toContain("src/net/big.ts: 301 lines (at most 300)");
    expect(r.out).toContain("src/net/long.ts:2: function m has 83 lines (at most 80)");
    expect(r.out).toContain("src/net/long.ts:3: function (anonymous) has 81 lines (at most 80)");
    expect(r.out).not.toContain("ok.ts");
    expect(r.out).not.toContain("big.test.ts");
    expect(r.out).toContain("check-size: 1 file over 300 lines, 2 functions over 80 lines");
    expect(run("check-size.mjs", root, "--strict").code).toBe(1);
  });
});

describe("check-test-only", () => {
  it("lists files that only tests reach", () => {
    const root = tree({
      "src/cli/main.ts": 'import { a } from "../parse/a.ts";\nconsole.log(a);\n',
      "src/parse/a.ts": "export const a = 1;\n",
      "src/parse/fixture.ts": "export const f = 1;\n",
      "src/parse/a.test.ts": 'import { f } from "./fixture.ts";\n',
    });
    const r = run("check-test-only.mjs", root);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "not explained (move test-only code to src/testing/): 1\n  src/parse/fixture.ts\n",
    );
    expect(run("check-test-only.mjs", root, "--strict").code).toBe(1);
  });
});
