import { describe, expect, it } from "vitest";
import type { Diagnosis } from "../model/diagnosis.ts";
import { renderDiagnosisText, safe } from "./render-diagnosis-text.ts";

describe("renderDiagnosisText", () => {
  it("shows terminal control characters from dumps escaped, never raw", () => {
    const d: Diagnosis = {
      ok: false,
      verdict: "broken",
      brokenAt: "node-dataplane",
      atRisk: [],
      summary: "broken \x1b[2J",
      steps: [{ check: "node-dataplane", status: "broken", ok: false, detail: "x\x07" }],
      findings: [
        {
          code: "chain-undefined",
          severity: "error",
          node: "n1",
          message: "jumps to \x1b]8;;http://evil\x07",
          evidence: [
            {
              file: "nodes/n1/iptables-save.txt",
              line: 3,
              text: '-A X -m comment --comment "\x1b[31mred" -j Y',
            },
          ],
        },
      ],
      nodes: [],
    };
    const out = renderDiagnosisText(d);
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(out).toContain("\\x1b[31mred");
    expect(out).toContain("nodes/n1/iptables-save.txt:3");
    expect(safe("tab\tok")).toBe("tab\\tok");
  });
});
