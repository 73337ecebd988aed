import { describe, expect, test } from "vitest";
import type { Rule } from "../model/ruleset.ts";
import type { RuleLine } from "./dump-reader.ts";
import { DumpReader } from "./dump-reader.ts";
import { parseDump } from "./parse-dump.ts";

/** What the streaming reader hands out, as plain objects, to compare the compact rules against. */
function readerLines(text: string, table?: "filter" | "nat"): RuleLine[] {
  const lines: RuleLine[] = [];
  const reader = new DumpReader({ rule: (r) => lines.push(r) }, table === undefined ? {} : { table });
  reader.push(text);
  reader.end();
  return lines;
}

function plain(rule: Rule): object {
  const { table, chain, index, line, raw, text, counters } = rule;
  return counters === undefined
    ? { table, chain, index, line, raw, text }
    : { table, chain, index, line, raw, text, counters };
}

function allRules(text: string, table?: "filter" | "nat", lazy = true): Rule[] {
  const rs = parseDump(text, table === undefined ? { lazy } : { lazy, table });
  return [...rs.tables.values()].flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules));
}

const byLine = (a: { line: number }, b: { line: number }) => a.line - b.line;

describe("parseDump() compact rules", () => {
  test("derive text and counters from raw exactly as the reader reads them", () => {
    const dump =
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n" +
      '[12:3456] -A INPUT -m comment --comment "[1:2] ] x" -j X\n-A INPUT -j ACCEPT\r\n' +
      "[0:0] -A X -j DROP\n-A FORWARD -j X\nCOMMIT\n";
    for (const lazy of [true, false]) {
      const rules = allRules(dump, undefined, lazy).sort(byLine);
      expect(rules.map(plain)).toEqual(readerLines(dump));
      expect(rules[0]!.text).toBe('-A INPUT -m comment --comment "[1:2] ] x" -j X');
      expect(rules[0]!.counters).toEqual({ packets: "12", bytes: "3456" });
      expect(rules[1]!.counters).toBeUndefined();
      expect(rules[1]!.raw).toBe("-A INPUT -j ACCEPT");
      expect(rules[0]!.spec.target?.name).toBe("X");
    }
  });

  test("keep `iptables -S -v` rules whose counters sit inside the rule", () => {
    const dump =
      "-P INPUT ACCEPT -c 10 840\n-P FORWARD DROP -c 0 0\n-P OUTPUT ACCEPT -c 0 0\n-N FOO\n" +
      '-A FOO -s 1.2.3.4/32 -m comment --comment "a -c 1 2 b" -c 5 60 -j MASQUERADE\n-A INPUT -c 7 8 -j FOO\n-A INPUT -j ACCEPT\n';
    const rules = allRules(dump, "filter").sort(byLine);
    expect(rules.map(plain)).toEqual(readerLines(dump, "filter"));
    expect(rules[0]!.text).toBe('-A FOO -s 1.2.3.4/32 -m comment --comment "a -c 1 2 b" -j MASQUERADE');
    expect(rules[0]!.counters).toEqual({ packets: "5", bytes: "60" });
    expect(rules[2]!.counters).toBeUndefined();
  });

  test("keep evaluation order and indexes when a chain's rules are not together", () => {
    const dump =
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" +
      "-A INPUT -s 1.1.1.1 -j ACCEPT\n-A FORWARD -j DROP\n-A INPUT -s 2.2.2.2 -j ACCEPT\n-A INPUT -s 3.3.3.3 -j ACCEPT\nCOMMIT\n";
    const input = parseDump(dump, { lazy: true }).tables.get("filter")!.chains.get("INPUT")!;
    expect(input.rules.map((r) => [r.index, r.line, r.chain, r.table])).toEqual([
      [0, 5, "INPUT", "filter"],
      [1, 7, "INPUT", "filter"],
      [2, 8, "INPUT", "filter"],
    ]);
  });

  test("read the same rules whatever the chunk boundaries", () => {
    const dump =
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-X - [0:0]\n:KUBE-XY - [0:0]\n" +
      "-A INPUT -j KUBE-XY\n-A KUBE-XY -s 10.0.0.1/32 -j ACCEPT\n-A KUBE-X -j DROP\n[5:6] -A KUBE-X -j ACCEPT\n" +
      "-A OUTPUT -j ACCEPT\r\n-A FORWARD\n-A INPUT -j KUBE-X\nCOMMIT\n";
    const expected = readerLines(dump);
    expect(expected).toHaveLength(7);
    for (let size = 1; size <= dump.length; size++) {
      const chunks: string[] = [];
      for (let k = 0; k < dump.length; k += size) chunks.push(dump.slice(k, k + size));
      const rs = parseDump(chunks, { lazy: true });
      const rules = [...rs.tables.get("filter")!.chains.values()].flatMap((c) => c.rules).sort(byLine);
      expect(rules.map(plain)).toEqual(expected);
    }
  });

  test("report an undeclared chain with its line whatever the chunk boundaries", () => {
    const dump = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A NOPE -j ACCEPT\nCOMMIT\n";
    for (const size of [1, 7, 30, dump.length]) {
      const chunks: string[] = [];
      for (let k = 0; k < dump.length; k += size) chunks.push(dump.slice(k, k + size));
      expect(() => parseDump(chunks, { lazy: true })).toThrow(
        'Cannot parse dump at line 4: rule for chain "NOPE", which is not declared in table "filter"',
      );
    }
  });

  test("serialize rules to the same JSON as before", () => {
    const [rule] = allRules("*nat\n:PREROUTING ACCEPT [0:0]\n[1:2] -A PREROUTING -j ACCEPT\nCOMMIT\n");
    expect(JSON.parse(JSON.stringify(rule))).toEqual({
      table: "nat",
      chain: "PREROUTING",
      index: 0,
      line: 3,
      raw: "[1:2] -A PREROUTING -j ACCEPT",
    });
  });
});
