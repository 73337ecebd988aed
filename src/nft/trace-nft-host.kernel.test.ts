/**
 * traceNftHost() against the kernel on hand-written rulesets (src/testing/nft-scenarios.ts): every
 * ruleset is loaded with the real nft into a netns lab, read back with `nft -j` and `nft -a` and
 * parsed as a bundle would be; every probe's predicted outcomes must all be seen, and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import { dumpNft, loadNftLab, nftUnavailable, nsExec } from "../testing/nft-lab.ts";
import { compareNftProbe, describeNftMismatch } from "../testing/nft-oracle.ts";
import { NFT_SCENARIOS } from "../testing/nft-scenarios.ts";
import { oracleLabSpec } from "../testing/trace-oracle.ts";
import { parseNftRuleset } from "./parse-nft-json.ts";

const skip = skipBecause(
  netnsUnavailable() ?? nftUnavailable(),
  "nftables kernel suite (hand-written rulesets)",
);

describe.skipIf(skip)("traceNftHost() vs kernel: hand-written rulesets", () => {
  let lab: Lab;
  let rulesets = 0;
  let probes = 0;
  beforeAll(async () => {
    lab = await createLab(oracleLabSpec("nftk"));
  });
  afterAll(async () => {
    await lab?.destroy();
    console.log(`nftables kernel suite (hand-written): ${rulesets} rulesets, ${probes} probes`);
  });

  for (const scenario of NFT_SCENARIOS) {
    it(`${scenario.name}: ${scenario.shows}`, { timeout: 180_000 }, async () => {
      loadNftLab(lab, scenario.ruleset);
      if (scenario.iptablesNft !== undefined) {
        nsExec(lab.namespaces.node, ["iptables-nft-restore", "--noflush"], scenario.iptablesNft);
      }
      const dump = dumpNft(lab.namespaces.node);
      const ruleset = parseNftRuleset(dump.json, { text: dump.text });
      rulesets++;
      for (const probe of scenario.probes) {
        probes++;
        const cmp = await compareNftProbe(lab, ruleset, probe);
        expect(cmp.mismatch, describeNftMismatch(cmp, dump.text)).toBeUndefined();
      }
    });
  }
});
