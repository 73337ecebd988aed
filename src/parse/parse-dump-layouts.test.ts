import { describe, expect, test } from "vitest";
import { generateDump, optionsForRules } from "../bench/generate-dump.ts";
import { chainLength, type Ruleset } from "../model/ruleset.ts";
import { parseDump } from "./parse-dump.ts";

/** Each chain's rule texts in order, per table. */
function chainTexts(rs: Ruleset): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of rs.tables.values()) {
    for (const c of t.chains.values()) out[`${t.name} ${c.name}`] = c.rules.map((r) => r.text);
  }
  return out;
}

describe("parseDump() on every layout", () => {
  const options = optionsForRules(6_000, { endpointsPerService: 2, duplicateShare: 0.3 });

  test("parseDump() gives every chain the same rules in kube-proxy's write order as in iptables-save order", () => {
    const saved = parseDump([...generateDump(options)], { lazy: true });
    const written = parseDump([...generateDump({ ...options, layout: "kube-proxy" })], { lazy: true });
    expect(written.ruleCount).toBe(saved.ruleCount);
    expect(chainTexts(written)).toEqual(chainTexts(saved));
  });

  test("parseDump() points every rule at its own line, whatever the layout, counters and line ends", () => {
    for (const variant of [
      { layout: "kube-proxy" as const },
      { layout: "kube-proxy" as const, counters: true, crlf: true },
      { counters: true },
    ]) {
      const chunks = [...generateDump({ ...options, ...variant })];
      const lines = chunks.join("").split(/\r?\n/);
      const rs = parseDump(chunks, { lazy: true });
      let rules = 0;
      for (const t of rs.tables.values()) {
        for (const c of t.chains.values()) {
          // The count is known before the rule objects are made, and agrees with them.
          const count = chainLength(c);
          c.rules.forEach((r, i) => {
            expect(r.raw).toBe(lines[r.line - 1]);
            expect(r.index).toBe(i);
            expect(r.chain).toBe(c.name);
            expect(r.text.startsWith(`-A ${c.name}`)).toBe(true);
          });
          expect(c.rules).toHaveLength(count);
          expect(c.ruleTexts?.()).toEqual(c.rules.map((r) => r.text));
          rules += count;
        }
      }
      expect(rules).toBe(rs.ruleCount);
    }
  });

  test("parseDump() makes a chain's rule objects once, when first read", () => {
    const rs = parseDump(
      "*nat\n:PREROUTING ACCEPT [0:0]\n:X - [0:0]\n-A X -j RETURN\n-A PREROUTING -j X\nCOMMIT\n",
    );
    const x = rs.tables.get("nat")!.chains.get("X")!;
    expect(x.ruleCount).toBe(1);
    expect(x.rules).toBe(x.rules);
    expect(JSON.parse(JSON.stringify(x))).toEqual({
      name: "X",
      table: "nat",
      counters: { packets: "0", bytes: "0" },
      builtin: false,
      line: 3,
      rules: [{ table: "nat", chain: "X", index: 0, line: 4, raw: "-A X -j RETURN" }],
    });
    const pre = rs.tables.get("nat")!.chains.get("PREROUTING")!;
    expect([pre.builtin, pre.policy, x.policy]).toEqual([true, "ACCEPT", undefined]);
  });
});
