/**
 * Done-when of issue 9: on the demo bundle's leaked node (prod-agent1, k3s-io/k3s#3117 on Debian 10's
 * iptables 1.8.2), the plan removes the leaked copies, and the count matches the leak as `scan` reports it.
 */
import { describe, expect, it } from "vitest";
import { buildBundle } from "../demo/build-bundle.ts";
import { incidentBundleSpec } from "../demo/incident.ts";
import { DumpReader } from "../parse/dump-reader.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { NodeScanner } from "../scan/scan-node.ts";
import { planAdvice } from "./plan-advice.ts";
import { planDuplicates } from "./plan-duplicates.ts";
import { renderRestore } from "./render-restore.ts";

describe("fix duplicates on the demo's leaked node", () => {
  const files = buildBundle(incidentBundleSpec());
  const dump = files.get("nodes/prod-agent1/iptables-save.txt")!;

  it("removes exactly the leaked copies that scan reports", () => {
    const scanner = new NodeScanner();
    const reader = new DumpReader(scanner.handler);
    reader.push(dump);
    reader.end();
    const scan = scanner.finish({
      node: "prod-agent1",
      file: "nodes/prod-agent1/iptables-save.txt",
      header: reader.header,
    });
    const plan = planDuplicates(parseDump(dump, { lazy: true }));
    expect(scan.duplicates.extraRules).toBeGreaterThan(60_000);
    expect(plan.copies).toBe(scan.duplicates.extraRules);
    // Every leaked group is kube-router RETURNs / flannel ACCEPTs: all removable.
    expect(plan.removed).toBe(scan.duplicates.extraRules);
    expect(plan.removedByOwner).toEqual(scan.duplicates.byOwner);
    expect(plan.after).toBe(scan.rules - scan.duplicates.extraRules);
    expect(plan.header).toMatchObject({ program: "xtables-save", version: "1.8.2", backend: "nf_tables" });
  });

  it("writes a filter block that keeps the first copy of each leaked rule, in place", () => {
    const rs = parseDump(dump, { lazy: true });
    const plan = planDuplicates(rs);
    const restore = renderRestore(rs, plan);
    expect(restore.map((f) => f.table)).toEqual(["filter"]);
    const lines = restore[0]!.text.split("\n");
    const flannel = lines.filter((l) => l.includes('"flanneld forward"'));
    expect(flannel).toHaveLength(2);
    const kubeRouter = lines.filter((l) => l.startsWith("-A KUBE-ROUTER-INPUT"));
    expect(new Set(kubeRouter).size).toBe(kubeRouter.length);
    expect(lines).toContain("-F FORWARD");
  });

  it("advises stopping k3s, applying with the nf_tables iptables-restore and --prefer-bundled-bin", () => {
    const plan = planDuplicates(parseDump(dump, { lazy: true }));
    const text = JSON.stringify(planAdvice(plan));
    expect(text).toContain("systemctl stop k3s");
    expect(text).toContain("iptables-nft-restore --noflush FILE");
    expect(text).toContain("--prefer-bundled-bin");
  });
});
