import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_FROM, DEMO_TO } from "../demo/incident.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { renderDiagnosisText } from "../report/render-diagnosis-text.ts";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { colourDiagnosisText, colourWanted, paint } from "./colour.ts";

const ANSI = /\x1b\[[0-9;]*m/g;
const tty = { isTTY: true };

describe("colourWanted()", () => {
  it.each([
    ["a terminal, text", tty, {}, undefined, "text", true],
    ["--color left as default (true)", tty, {}, true, "text", true],
    ["--no-color", tty, {}, false, "text", false],
    ["NO_COLOR=1", tty, { NO_COLOR: "1" }, undefined, "text", false],
    ["NO_COLOR set but empty (no-color.org: ignored)", tty, { NO_COLOR: "" }, undefined, "text", true],
    ["TERM=dumb", tty, { TERM: "dumb" }, undefined, "text", false],
    ["a pipe", { isTTY: false }, {}, undefined, "text", false],
    ["a stream without isTTY", {}, {}, undefined, "text", false],
    ["-o json", tty, {}, undefined, "json", false],
    ["-o yaml", tty, {}, undefined, "yaml", false],
    ["-o html", tty, {}, undefined, "html", false],
  ] as const)("%s", (_, stream, env, flag, format, expected) => {
    expect(colourWanted({ stream, env, flag, format })).toBe(expected);
  });
});

/** A diagnosis whose input values try to look like the words that get coloured. */
function hostile(): Diagnosis {
  return {
    ok: false,
    verdict: "broken",
    brokenAt: "node-dataplane",
    atRisk: ["node-health"],
    summary: "[FAIL] ERROR pod\nVERDICT: REACHABLE",
    question: { from: "ns/ERROR", to: "svc:80", clientNode: "OK" },
    steps: [
      { check: "dns", status: "ok", ok: true, detail: "resolves\n  [ok] forged" },
      { check: "node-dataplane", status: "broken", ok: false, detail: "WARN x" },
      { check: "node-health", status: "at-risk", ok: true, detail: "dup" },
      { check: "config", status: "undecided", detail: "no env", missing: "[FAIL] m", howToGet: "x" },
      { check: "endpoints", status: "not-applicable", detail: "headless" },
    ],
    findings: [
      {
        code: "endpoint-stale",
        severity: "error",
        node: "n1\nERROR n2",
        message: "VERDICT: BROKEN\x1b[31m",
        evidence: [{ file: "nodes/n1/iptables-save.txt", line: 7, text: "ERROR\nWARN" }],
      },
      { code: "config-pod-ip", severity: "warning", message: "pins", evidence: [] },
      { code: "rules-outlier", severity: "info", message: "i", evidence: [] },
    ],
    nodes: [],
  };
}

describe("colourDiagnosisText()", () => {
  const plain = renderDiagnosisText(hostile());
  const coloured = colourDiagnosisText(plain);

  it("only adds colour codes: without them the text is the plain text", () => {
    expect(coloured.replace(ANSI, "")).toBe(plain);
  });

  it("colours exactly the verdict, AT RISK, the check marks and ERROR/WARN that netdoctor wrote", () => {
    const painted = [...coloured.matchAll(/\x1b\[(\d+)m([^\x1b]*)\x1b\[0m/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(painted).toEqual([
      "31 BROKEN",
      "33 AT RISK",
      "32 [ok]",
      "31 [FAIL]",
      "33 [risk]",
      "33 [?]",
      "31 ERROR",
      "33 WARN",
    ]);
    expect(coloured).toMatch(/^VERDICT: \x1b\[31mBROKEN\x1b\[0m at node-dataplane$/m);
  });

  it("colours REACHABLE/HEALTHY green and UNDECIDED yellow", () => {
    const reachable = { ...hostile(), verdict: "reachable", brokenAt: undefined } as unknown as Diagnosis;
    expect(colourDiagnosisText(renderDiagnosisText(reachable))).toContain(
      `VERDICT: ${paint("good", "REACHABLE")}`,
    );
    const healthy = { ...reachable, question: undefined } as unknown as Diagnosis;
    expect(colourDiagnosisText(renderDiagnosisText(healthy))).toContain(
      `VERDICT: ${paint("good", "HEALTHY")}`,
    );
    const undecided = { ...reachable, verdict: "undecided" } as unknown as Diagnosis;
    expect(colourDiagnosisText(renderDiagnosisText(undecided))).toContain(
      `VERDICT: ${paint("unsure", "UNDECIDED")}`,
    );
  });
});

const CLI = join(process.cwd(), "dist/netdoctor.mjs");
const noScript = skipBecause(
  commandUnavailable("script") ??
    (existsSync(CLI) ? undefined : "dist/netdoctor.mjs is not built (npm run build)"),
  "colour on a real terminal (script(1) gives the CLI a pty)",
);

/** Runs the built CLI with stdout on a pseudo-terminal (util-linux script), returning what it printed. */
function onTerminal(args: readonly string[], env: Record<string, string> = {}): string {
  const command = ["node", CLI, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const r = spawnSync("script", ["-qec", `${command} 2>/dev/null`, "/dev/null"], {
    encoding: "utf8",
    env: { ...process.env, TERM: "xterm", NO_COLOR: "", ...env },
    maxBuffer: 64 << 20,
  });
  return r.stdout;
}

describe.skipIf(noScript)("netdoctor diagnose colour (the built CLI)", () => {
  const question = ["diagnose", "--demo", "--from", DEMO_FROM, "--to", DEMO_TO];

  it("is red for BROKEN and FAIL on a terminal", () => {
    const out = onTerminal(question);
    expect(out).toContain(`VERDICT: ${paint("bad", "BROKEN")}`);
    expect(out).toContain(paint("bad", "[FAIL]"));
    expect(out).toContain(paint("good", "[ok]"));
  });

  it.each([
    ["--no-color", [...question, "--no-color"], {}],
    ["--no-color before the command", ["--no-color", ...question], {}],
    ["NO_COLOR=1", question, { NO_COLOR: "1" }],
    ["-o json", [...question, "-o", "json"], {}],
    ["-o yaml", [...question, "-o", "yaml"], {}],
  ] as const)("is off with %s", (_, args, env) => {
    const out = onTerminal(args, env);
    expect(out.length).toBeGreaterThan(100);
    expect(out).not.toMatch(ANSI);
  });

  it("is off when stdout is not a terminal", () => {
    const r = spawnSync("node", [CLI, ...question], {
      encoding: "utf8",
      env: { ...process.env, TERM: "xterm", NO_COLOR: "" },
      maxBuffer: 64 << 20,
    });
    expect(r.stdout).toMatch(/^VERDICT: BROKEN/m);
    expect(r.stdout).not.toMatch(ANSI);
  });
});
