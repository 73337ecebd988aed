/**
 * The indexer fed from the byte view of a one-pass read (what bundle reading does) against the same
 * indexer fed one immutable RuleLine per rule: the index must not depend on how the rules arrive.
 */
import { describe, expect, test } from "vitest";
import { generateDump, optionsForRules } from "../bench/generate-dump.ts";
import { DumpReader } from "../parse/dump-reader.ts";
import { kubeProxyFixtures, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { type KubeProxyIndex, KubeProxyIndexer } from "./kube-proxy-index.ts";

function plain(index: KubeProxyIndex): unknown {
  return {
    chains: [...index.chains].map(([t, m]) => [t, [...m]]),
    nat: [...index.nat],
    filter: index.filter,
    undefinedJumps: index.undefinedJumps,
  };
}

function both(text: string | string[]): [unknown, unknown] {
  const byView = new KubeProxyIndexer();
  const r1 = new DumpReader(byView.handler);
  const byLine = new KubeProxyIndexer();
  const r2 = new DumpReader({
    table: byLine.handler.table!,
    chain: byLine.handler.chain!,
    rule: (r) => byLine.rule(r),
  });
  for (const chunk of typeof text === "string" ? [text] : text) {
    r1.push(chunk);
    r2.push(chunk);
  }
  r1.end();
  r2.end();
  return [plain(byView.finish()), plain(byLine.finish())];
}

describe("KubeProxyIndexer.ruleView()", () => {
  test.each([
    ["iptables-save order", {}],
    ["kube-proxy write order", { layout: "kube-proxy" as const }],
    ["with counters", { counters: true }],
  ])("KubeProxyIndexer.ruleView() indexes a generated node like rule(): %s", (_name, variant) => {
    const [view, line] = both([...generateDump({ ...optionsForRules(5_000), ...variant })]);
    expect(view).toEqual(line);
  });

  test("KubeProxyIndexer.ruleView() finds the same undefined jumps, also after quoted -j", () => {
    const dump = [
      "*nat",
      ":PREROUTING ACCEPT [0:0]",
      ":KUBE-SERVICES - [0:0]",
      '-A PREROUTING -m comment --comment "x -j KUBE-GONE" -j KUBE-MISSING',
      '-A PREROUTING -m comment --comment "only -j KUBE-QUOTED"',
      "-A PREROUTING -j KUBE-SERVICES",
      "-A PREROUTING -j KUBE-MISSING",
      "-A PREROUTING -j DNAT --to-destination 1.2.3.4",
      "COMMIT",
      "",
    ].join("\n");
    const [view, line] = both(dump);
    expect(view).toEqual(line);
    expect((view as { undefinedJumps: unknown[] }).undefinedJumps).toEqual([
      {
        table: "nat",
        target: "KUBE-MISSING",
        line: 4,
        text: '-A PREROUTING -m comment --comment "x -j KUBE-GONE" -j KUBE-MISSING',
      },
    ]);
  });

  test("KubeProxyIndexer.ruleView() indexes every kube-proxy fixture like rule()", () => {
    if (skipWithoutSharedFixtures("the kube-proxy fixtures")) return;
    let read = 0;
    for (const f of kubeProxyFixtures()) {
      if (f.name.includes(".nft.") || !f.text.includes("*nat")) continue;
      const [view, line] = both(f.text);
      expect({ name: f.name, index: view }).toEqual({ name: f.name, index: line });
      read++;
    }
    expect(read).toBeGreaterThan(3);
  });
});
