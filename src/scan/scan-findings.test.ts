import { describe, expect, test } from "vitest";
import { duplicateFindings, outlierFindings, ruleCountOutlier } from "./scan-findings.ts";
import type { NodeScan } from "./scan-node.ts";

function node(name: string, rules: number, extra = 0): NodeScan {
  const groups =
    extra === 0
      ? []
      : [
          {
            table: "filter" as const,
            chain: "KUBE-ROUTER-INPUT",
            rule: "-A KUBE-ROUTER-INPUT -j RETURN",
            count: extra + 1,
            owner: "kube-router" as const,
            lines: [7, 8, 9, 10, 11],
          },
        ];
  return {
    node: name,
    file: `${name}.txt`,
    header: { backend: "nf_tables" },
    rules,
    chains: 10,
    tables: {},
    duplicates: { extraRules: extra, byOwner: extra === 0 ? {} : { "kube-router": extra }, groups },
    warnings: [],
  };
}

const UNEXPLAINED = { kind: "unexplained", writers: "kube-router", whichIptables: "the host's" } as const;

describe("duplicateFindings()", () => {
  test("duplicateFindings() reports nothing for a node without copies", () => {
    expect(duplicateFindings(node("a", 300), { cause: UNEXPLAINED })).toEqual([]);
  });

  test("duplicateFindings() reports copies with evidence lines; 100 or more of a component's is an error", () => {
    expect(duplicateFindings(node("w3", 5300, 5000), { cause: UNEXPLAINED })).toEqual([
      {
        code: "rules-duplicated",
        severity: "error",
        node: "w3",
        message:
          'Node "w3" has 5000 duplicate rules (94.3% of 5300) in 1 group (kube-router 5000); the largest group is 5001 copies of one rule in filter/KUBE-ROUTER-INPUT',
        evidence: [
          { file: "w3.txt", line: 7, text: "-A KUBE-ROUTER-INPUT -j RETURN" },
          { file: "w3.txt", line: 8, text: "-A KUBE-ROUTER-INPUT -j RETURN" },
        ],
        fix: expect.stringContaining("Collect `iptables --version`"),
      },
    ]);
    expect(duplicateFindings(node("w4", 400, 99), { cause: UNEXPLAINED })[0]!.severity).toBe("warning");
  });

  test("duplicateFindings() calls a static ruleset's copies a warning whatever their number, and names no bug", () => {
    const scan = node("fw", 5300, 5000);
    const fw: NodeScan = {
      ...scan,
      duplicates: {
        ...scan.duplicates,
        byOwner: { other: 5000 },
        groups: scan.duplicates.groups.map((g) => ({ ...g, owner: "other" as const })),
      },
    };
    const [f] = duplicateFindings(fw, { cause: { kind: "static" } });
    expect(f!.severity).toBe("warning");
    expect(f!.message).toContain("none of them a Kubernetes or container component's (a static ruleset)");
    expect(f!.fix).not.toMatch(/k3s|1\.8\./);
    expect(f!.references).toBeUndefined();
  });
});

describe("ruleCountOutlier()", () => {
  test.each([
    // The k3s#3117 leak: far past 5x the peers.
    [180_000, [250, 260, 240], "error"],
    [2692, [292, 292], "error"],
    // Small absolute differences never count, whatever the ratio.
    [900, [100, 100, 100], undefined],
    // 3x in a large cluster with tight peers: a warning.
    [150_000, [50_000, 50_100, 49_900], "warning"],
    // 3x but the peers themselves vary a lot: not judged an outlier.
    [15_000, [1_000, 3_000, 5_000, 9_000], undefined],
    // 3x with only two peers: their spread means nothing, so no warning.
    [150_000, [50_000, 50_100], undefined],
    // Under 2x: normal variation.
    [90_000, [50_000, 50_100, 49_900], undefined],
    // No peers.
    [1_000_000, [], undefined],
    // Peers with no rules at all.
    [5_000, [0, 0], "error"],
  ] as const)("ruleCountOutlier(%d, %j) is %s", (rules, peers, want) => {
    expect(ruleCountOutlier(rules, peers)).toBe(want);
  });
});

describe("outlierFindings()", () => {
  test("outlierFindings() names the outlier node with its peers as evidence", () => {
    expect(outlierFindings([node("server", 292), node("agent1", 292), node("agent2", 2692)])).toEqual([
      {
        code: "rules-outlier",
        severity: "error",
        node: "agent2",
        message: 'Node "agent2" has 2692 rules, 9.2x the median of its 2 peers (292)',
        evidence: [{ file: "agent2.txt", text: "2692 rules (-A lines); peers: server=292, agent1=292" }],
        fix: "Compare this node's dump with a healthy peer's; a steady excess is usually leaked duplicate rules (see rules-duplicated)",
      },
    ]);
  });

  test("outlierFindings() needs two nodes and lists at most ten peers", () => {
    expect(outlierFindings([node("only", 1_000_000)])).toEqual([]);
    const nodes = [...Array.from({ length: 12 }, (_, i) => node(`n${i}`, 300)), node("sick", 50_000)];
    const [f] = outlierFindings(nodes);
    expect(f!.evidence[0]!.text).toBe(
      "50000 rules (-A lines); peers: n0=300, n1=300, n2=300, n3=300, n4=300, n5=300, n6=300, n7=300, n8=300, n9=300, ... (2 more)",
    );
    expect(outlierFindings(nodes)).toHaveLength(1);
  });
});
