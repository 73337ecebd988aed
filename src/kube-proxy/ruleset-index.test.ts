/**
 * The index read on demand from a parsed dump against the streaming indexer fed the same dump: what
 * reconciliation reads must not depend on which of the two the node was read with.
 */
import { describe, expect, test } from "vitest";
import { generateDump, optionsForRules } from "../bench/generate-dump.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { kubeProxyFixtures, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { declaredWithPrefix } from "./declared-chains.ts";
import type { KubeProxyIndex } from "./kube-proxy-index.ts";
import { rulesetIndex } from "./ruleset-index.ts";

/** Prefixes kube-proxy's detectors search the declarations for. */
const PREFIXES = [["KUBE-SVC-"], ["KUBE-EXT-", "KUBE-SVL-"], ["KUBE-XLB-"], ["KUBE-NODEPORTS"], ["CILIUM_"]];

function plain(index: KubeProxyIndex): unknown {
  return {
    chains: [...index.chains].map(([t, m]) => [t, [...m]]),
    prefixed: [...index.chains.keys()].flatMap((t) =>
      PREFIXES.map((p) => [...declaredWithPrefix(index.chains, t, p)]),
    ),
    nat: [...index.nat],
    filter: index.filter,
    undefinedJumps: index.undefinedJumps,
    ipvs: index.ipvsClusterIpMatch,
  };
}

const streamed = indexDumpText;

const parsed = (text: string): KubeProxyIndex => rulesetIndex(parseDump(text, { lazy: true }));

describe("rulesetIndex()", () => {
  test.each([
    ["iptables-save order", {}],
    ["kube-proxy write order", { layout: "kube-proxy" as const }],
    ["with counters", { counters: true }],
    ["with leaked copies", { duplicateShare: 0.3, layout: "kube-proxy" as const }],
  ])("rulesetIndex() indexes a generated node as the streaming indexer does: %s", (_name, variant) => {
    const text = [...generateDump({ ...optionsForRules(5_000), ...variant })].join("");
    expect(plain(parsed(text))).toEqual(plain(streamed(text)));
  });

  test("rulesetIndex() finds undefined jumps, the IPVS mark and mark-only rules as the indexer does", () => {
    const dump = [
      "*filter",
      ":INPUT ACCEPT [0:0]",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-EXTERNAL-SERVICES - [0:0]",
      "-A INPUT -j KUBE-GONE",
      "-A KUBE-EXTERNAL-SERVICES -d 10.0.0.9/32 -p tcp --dport 80 -j DROP",
      "-A KUBE-SERVICES -d 10.0.0.8/32 -p tcp --dport 80 -j REJECT",
      "COMMIT",
      "*nat",
      ":PREROUTING ACCEPT [0:0]",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-SVC-A - [0:0]",
      '-A PREROUTING -m comment --comment "x -j KUBE-GONE" -j KUBE-MISSING',
      "-A PREROUTING -j KUBE-SERVICES",
      "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ",
      "-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A",
      "-A KUBE-SVC-A -j KUBE-MARK-MASQ",
      "-A PREROUTING -j KUBE-MISSING",
      "-A PREROUTING -j KUBE-GONE",
      "COMMIT",
      "",
    ].join("\n");
    const index = parsed(dump);
    expect(plain(index)).toEqual(plain(streamed(dump)));
    // Written out, so both implementations are held to the dump and not only to each other.
    expect(index.undefinedJumps.map((j) => `${j.table} ${j.target} ${j.line}`)).toEqual([
      "filter KUBE-GONE 5",
      "nat KUBE-MISSING 13",
      "nat KUBE-GONE 19",
    ]);
    expect(index.ipvsClusterIpMatch?.line).toBe(15);
    expect(index.nat.get("KUBE-SVC-A")).toBeUndefined();
    expect(index.nat.get("KUBE-SERVICES")?.map((r) => r.line)).toEqual([16]);
    expect(index.filter.map((r) => `${r.line} ${r.target}`)).toEqual(["6 DROP", "7 REJECT"]);
  });

  test("rulesetIndex() indexes every kube-proxy fixture as the streaming indexer does", () => {
    if (skipWithoutSharedFixtures("the kube-proxy fixtures")) return;
    let read = 0;
    for (const f of kubeProxyFixtures()) {
      if (f.name.includes(".nft.") || !f.text.includes("*nat")) continue;
      expect({ name: f.name, index: plain(parsed(f.text)) }).toEqual({
        name: f.name,
        index: plain(streamed(f.text)),
      });
      read++;
    }
    expect(read).toBeGreaterThan(3);
  });
});
