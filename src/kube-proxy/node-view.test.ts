/**
 * Reconciliation of one service port at a time (a diagnose question: NodeView looks its entries up
 * per destination in an index read from the parse) against the same reconciliation on the streaming
 * index, where every entry rule is indexed up front: on upstream kube-proxy's own test rules and
 * Services (testdata/kube-proxy-eras), whole and with entries removed, the answers must be the same.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { readBundle } from "../collect/read-bundle.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { KUBE_PROXY_FIXTURES, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { expectedServicePorts } from "./expected-state.ts";
import { reconcileNode } from "./reconcile-node.ts";
import { rulesetIndex } from "./ruleset-index.ts";

const ERAS = resolve(process.cwd(), "testdata/kube-proxy-eras");

/** Each era bundle with the upstream test's expected rules. */
const CASES: readonly (readonly [string, string])[] = [
  ["v1.20-TestEndpointSliceE2E", "kube-proxy-iptables-v1.20ish-TestEndpointSliceE2E.txt"],
  ["v1.21-TestHealthCheckNodePortE2E", "kube-proxy-iptables-v1.21ish-TestHealthCheckNodePortE2E.txt"],
  [
    "v1.23-TestOverallIPTablesRulesWithMultipleServices",
    "kube-proxy-iptables-v1.23ish-TestOverallIPTablesRulesWithMultipleServices.txt",
  ],
  ["v1.31-TestOverallIPTablesRules", "kube-proxy-iptables-v1.31ish-TestOverallIPTablesRules.txt"],
];

const streamed = indexDumpText;

/** Every other nat KUBE-SERVICES entry left out: Services whose entry is missing. */
function halfEntries(text: string): string {
  let k = 0;
  const kept = text
    .split("\n")
    .filter((l) => !(l.startsWith("-A KUBE-SERVICES ") && l.includes(" -d ") && k++ % 2 === 1));
  expect(k).toBeGreaterThan(1);
  return kept.join("\n");
}

describe("NodeView lookups per destination", () => {
  test("reconcileNode() of one service port at a time answers as with every entry indexed", async () => {
    if (skipWithoutSharedFixtures("upstream kube-proxy era fixtures")) return;
    let compared = 0;
    for (const [bundle, fixture] of CASES) {
      const ports = expectedServicePorts((await readBundle(join(ERAS, bundle))).cluster);
      const whole = readFileSync(join(KUBE_PROXY_FIXTURES, fixture), "utf8");
      for (const text of [whole, halfEntries(whole)]) {
        const opts = { node: "test-hostname", file: fixture };
        const byParse = rulesetIndex(parseDump(text, { lazy: true }));
        const byRule = streamed(text);
        expect(reconcileNode(ports, byParse, opts)).toEqual(reconcileNode(ports, byRule, opts));
        for (const sp of ports) {
          const only = { ...opts, only: new Set([sp.svcPortName]) };
          const want = reconcileNode(ports, byRule, only);
          expect({ port: sp.svcPortName, got: reconcileNode(ports, byParse, only) }).toEqual({
            port: sp.svcPortName,
            got: want,
          });
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  test("reconcileNode() of one service port finds its missing entry through the lookup", async () => {
    if (skipWithoutSharedFixtures("upstream kube-proxy era fixtures")) return;
    const [bundle, fixture] = CASES[2]!;
    const ports = expectedServicePorts((await readBundle(join(ERAS, bundle))).cluster);
    // ns3 shares its ClusterIP and port with ns2b: only ns3's own entry may count as its entry.
    const text = readFileSync(join(KUBE_PROXY_FIXTURES, fixture), "utf8")
      .split("\n")
      .filter((l) => !(l.startsWith("-A KUBE-SERVICES ") && l.includes('"ns3/svc3:p80 cluster IP"')))
      .join("\n");
    const sp = ports.find((p) => p.svcPortName.startsWith("ns3/svc3"))!;
    const r = reconcileNode(ports, rulesetIndex(parseDump(text, { lazy: true })), {
      node: "test-hostname",
      file: fixture,
      only: new Set([sp.svcPortName]),
    });
    expect(r.findings.map((f) => `${f.code} ${f.service}`)).toEqual(["service-rules-missing ns3/svc3"]);
  });
});
