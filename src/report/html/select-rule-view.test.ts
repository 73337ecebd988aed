import { describe, expect, it } from "vitest";
import { generateDump } from "../../bench/generate-dump.ts";
import { parseDump } from "../../parse/parse-dump.ts";
import { MAX_RULES_PER_CHAIN } from "./rule-views.ts";
import { nodeRuleView } from "./select-rule-view.ts";

const dump = parseDump([...generateDump({ services: 300, duplicates: 20_000 })].join(""), { lazy: true });
const lineOf = (chain: string, pred: (text: string) => boolean) => {
  for (const table of dump.tables.values()) {
    const rule = table.chains.get(chain)?.rules.find((r) => pred(r.text));
    if (rule !== undefined) return rule.line;
  }
  throw new Error(`Cannot find a rule of ${chain}`);
};

describe("nodeRuleView()", () => {
  it("shows the Service's entry in a huge KUBE-SERVICES, then its SVC and SEP chains in full", () => {
    const view = nodeRuleView(dump, {
      node: "w1",
      file: "nodes/w1/iptables-save.txt",
      serviceIp: "10.43.0.3",
      port: 80,
    });
    expect(view.chains.map((c) => c.chain.replace(/-[A-Z2-7]{16}$/, "-*"))).toEqual([
      "KUBE-SERVICES",
      "KUBE-SVC-*",
      "KUBE-SEP-*",
      "KUBE-SEP-*",
      "KUBE-SEP-*",
    ]);
    const services = view.chains[0]!;
    expect(services.totalRules).toBeGreaterThan(MAX_RULES_PER_CHAIN);
    // Only 10.43.0.3, not 10.43.0.30 or 10.43.0.31.
    expect(services.rules.map((r) => r.text)).toEqual([
      expect.stringMatching(/^-A KUBE-SERVICES -d 10\.43\.0\.3\/32 .*--dport 80 -j KUBE-SVC-/),
    ]);
    expect(services.rules[0]!.mark).toBe("service");
    const svc = view.chains[1]!;
    expect(svc.rules).toHaveLength(svc.totalRules);
    expect(
      view.chains.slice(2).every((c) => c.rules.some((r) => r.text.includes("-j DNAT --to-destination"))),
    ).toBe(true);
  });

  it("marks traced and cited lines and cuts a chain of 20,000 duplicates to the cited one", () => {
    const traced = lineOf("PREROUTING", (t) => t.includes("-j KUBE-SERVICES"));
    const cited = lineOf("KUBE-ROUTER-INPUT", (t) => t.includes("node ports"));
    const view = nodeRuleView(dump, { node: "w1", file: "f", traceLines: [traced], evidenceLines: [cited] });
    const input = view.chains.find((c) => c.chain === "KUBE-ROUTER-INPUT")!;
    expect(input.totalRules).toBeGreaterThan(5_000);
    expect(input.rules).toEqual([
      { line: cited, text: expect.stringContaining("node ports"), mark: "evidence" },
    ]);
    const pre = view.chains.find((c) => c.chain === "PREROUTING")!;
    expect(pre.reason).toBe("on the traced path");
    expect(pre.rules.find((r) => r.line === traced)?.mark).toBe("trace");
    expect(JSON.stringify(view).length).toBeLessThan(10_000);
  });

  it("counts the chains it leaves out beyond maxChains", () => {
    const view = nodeRuleView(dump, { node: "w1", file: "f", serviceIp: "10.43.0.3", maxChains: 2 });
    expect(view.chains).toHaveLength(2);
    expect(view.omittedChains).toBe(3);
  });
});
