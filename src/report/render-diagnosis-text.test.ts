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

describe("renderDiagnosisText() node table", () => {
  const base: Diagnosis = {
    ok: true,
    verdict: "reachable",
    atRisk: [],
    summary: "healthy",
    steps: [],
    findings: [],
    nodes: [
      {
        node: "n1",
        file: "nodes/n1/iptables-save.txt",
        readable: true,
        rules: 300,
        chains: 40,
        duplicateRules: 0,
        iptablesVersion: "iptables v1.8.9 (nf_tables)",
        knownBugs: [],
        kubeProxy: {
          mode: "iptables",
          modeReason: "nat KUBE-SERVICES",
          modeEvidence: [],
          era: { label: "v1.21-v1.23", min: 21, max: 23, evidence: [] },
          health: {
            summary: 'kube-proxy on "n1" last synced 7 minutes ago (at collection), 2 restore failures',
            canaryMissing: [],
            evidence: [],
          },
        },
      },
      {
        node: "n2",
        file: "nodes/n2/iptables-save.txt",
        readable: true,
        rules: 80,
        chains: 20,
        duplicateRules: 0,
        knownBugs: [],
        kubeProxy: {
          mode: "ipvs",
          modeReason: "KUBE-SERVICES matches the ipset KUBE-CLUSTER-IP (IPVS mode)",
          modeEvidence: [],
        },
      },
      {
        node: "n3",
        file: "nodes/n3/iptables-save.txt",
        readable: false,
        rules: 0,
        chains: 0,
        duplicateRules: 0,
        knownBugs: [],
      },
    ],
  };

  it("renderDiagnosisText() shows each node's proxy mode and kube-proxy era, and notes a non-iptables mode and kube-proxy's health", () => {
    const out = renderDiagnosisText(base);
    const table = out.slice(out.indexOf("Nodes:"));
    expect(table).toMatch(/NODE +RULES +DUPLICATES +IPTABLES +PROXY MODE +KUBE-PROXY +KNOWN BUGS/);
    expect(table).toMatch(/n1 +300 +0 +iptables v1\.8\.9 \(nf_tables\) +iptables +v1\.21-v1\.23 +-/);
    expect(table).toMatch(/n2 +80 +0 +\? +ipvs +- +-/);
    expect(table).toMatch(/n3 +unreadable +0 +\? +- +- +-/);
    expect(table).toContain(
      '  n1: kube-proxy on "n1" last synced 7 minutes ago (at collection), 2 restore failures',
    );
    expect(table).toContain(
      "  n2: proxy mode ipvs: KUBE-SERVICES matches the ipset KUBE-CLUSTER-IP (IPVS mode)",
    );
    expect(table).not.toContain("n1: proxy mode");
  });
});
