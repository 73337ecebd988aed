/**
 * traceHost() against the kernel (issue 15): native nft, iptables-nft and legacy xtables tables on
 * the same hooks (src/testing/host-scenarios.ts) loaded into a netns lab with the real tools, read
 * back as a bundle holds them, every predicted outcome must be seen and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandUnavailable, netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { compareHostProbe, loadHostScenario } from "../testing/host-oracle.ts";
import { HOST_SCENARIOS, legacyBeside } from "../testing/host-scenarios.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import { nftUnavailable } from "../testing/nft-lab.ts";
import { oracleLabSpec } from "../testing/trace-oracle.ts";

const skip = skipBecause(
  netnsUnavailable() ?? nftUnavailable() ?? commandUnavailable("iptables-legacy-restore"),
  "whole-host trace kernel suite (nft + iptables-nft + legacy)",
);

describe.skipIf(skip)("traceHost() vs kernel: nft, iptables-nft and legacy tables together", () => {
  let lab: Lab;
  let rulesets = 0;
  let probes = 0;
  beforeAll(async () => {
    lab = await createLab(oracleLabSpec("hostk"));
  });
  afterAll(async () => {
    await lab?.destroy();
    console.log(`whole-host kernel suite: ${rulesets} rulesets, ${probes} probes`);
  });

  it("bites: without the legacy dump the legacy DROP is missed and the kernel disagrees", {
    timeout: 60_000,
  }, async () => {
    const { evidence } = loadHostScenario(lab, legacyBeside);
    const { legacy: _legacy, ...withoutLegacy } = evidence;
    const cmp = await compareHostProbe(lab, withoutLegacy, { from: "pod", dstIp: "198.18.2.1", dstPort: 80 });
    expect(cmp.mismatch).toContain("kernel showed [timeout] not predicted");
    const full = await compareHostProbe(lab, evidence, { from: "pod", dstIp: "198.18.2.1", dstPort: 80 });
    expect(full.traces.map((t) => t.disposition.kind)).toEqual(["dropped"]);
    const by = full.traces[0]!.disposition.kind === "dropped" ? full.traces[0]!.disposition.by : undefined;
    expect(by).toMatchObject({
      backend: "iptables",
      table: "filter",
      chain: "FORWARD",
      evidence: { file: "iptables-legacy-save.txt" },
    });
  });

  for (const scenario of HOST_SCENARIOS) {
    it(`${scenario.name}: ${scenario.shows}`, { timeout: 180_000 }, async () => {
      const { evidence, text } = loadHostScenario(lab, scenario);
      rulesets++;
      for (const probe of scenario.probes) {
        probes++;
        const cmp = await compareHostProbe(lab, evidence, probe);
        const steps = cmp.traces
          .map(
            (t) =>
              `${t.disposition.kind}: ${t.hops[0]!.steps.map((s) => ("table" in s ? `${s.table}/${s.chain}` : s.kind)).join(" > ")}`,
          )
          .join("\n");
        expect(cmp.mismatch, `${cmp.mismatch}\n${steps}\n${text}`).toBeUndefined();
      }
    });
  }
});
