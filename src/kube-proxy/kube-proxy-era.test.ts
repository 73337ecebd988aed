import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { KUBE_PROXY_FIXTURES, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { choiceEra, detectEra } from "./kube-proxy-era.ts";

function eraOf(path: string) {
  return detectEra(indexDumpText(readFileSync(path, "utf8")), "d");
}

describe.skipIf(skipWithoutSharedFixtures("kube-proxy era detection"))("detectEra()", () => {
  it("dates each upstream fixture within the release range its README gives", () => {
    const label = (f: string) => eraOf(join(KUBE_PROXY_FIXTURES, f)).label;
    expect(label("normalized/legacy-v1.21ish-TestHealthCheckNodePortE2E.save.txt")).toBe("v1.21-v1.23");
    expect(label("normalized/legacy-v1.23ish-TestOverallIPTablesRulesWithMultipleServices.save.txt")).toBe(
      "v1.21-v1.23",
    );
    expect(label("normalized/legacy-v1.31ish-TestOverallIPTablesRules.save.txt")).toBe("v1.31 or later");
  });

  it("dates a real kube-proxy v1.20.2 node between its canary (v1.17) and KUBE-XLB (until v1.23)", () => {
    const node = resolve(process.cwd(), "../shared/realkube/healthy/nodes/node1/iptables-save.txt");
    if (!existsSync(node)) {
      console.warn(`SKIP realkube era: ${node} is absent`);
      return;
    }
    const era = eraOf(node);
    expect(era).toMatchObject({ min: 17, max: 23, label: "v1.17-v1.23" });
    expect(choiceEra(era)).toEqual({ clusterTerminatingFallback: false });
    expect(era.evidence.map((e) => e.text)).toEqual([
      ":KUBE-PROXY-CANARY - [0:0]",
      ":KUBE-XLB-FAXFPGMJVQWLKPGL - [0:0]",
    ]);
  });
});
