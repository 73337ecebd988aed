/**
 * Property: on random loadable nftables rulesets (src/testing/nft-random-ruleset.ts), every outcome
 * traceNftHost() predicts with probability > 0 is what the kernel does, and the kernel shows nothing
 * else. Seeds are fixed so CI is reproducible (ND_NFT_SEED overrides them to explore, ND_NFT_RUNS the
 * count per batch).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import { nftUnavailable } from "../testing/nft-lab.ts";
import { compareNftProbe, describeNftMismatch, loadAndParse, type NftProbe } from "../testing/nft-oracle.ts";
import { randomNftRulesetArb } from "../testing/nft-random-ruleset.ts";
import { oracleLabSpec } from "../testing/trace-oracle.ts";

const skip = skipBecause(netnsUnavailable() ?? nftUnavailable(), "nftables kernel suite (random rulesets)");

const RUNS = Number(process.env.ND_NFT_RUNS ?? 40);
const SEEDS = [5101, 5202, 5303];

const PROBES: readonly NftProbe[] = [
  { from: "pod", dstIp: "198.19.0.10", dstPort: 80 },
  { from: "pod", dstIp: "198.18.2.1", dstPort: 8080 },
  { from: "pod2", dstIp: "198.18.0.1", dstPort: 443 },
  { from: "node", dstIp: "198.19.0.10", dstPort: 443 },
  { from: "pod", protocol: "udp", dstIp: "198.18.2.2", dstPort: 53 },
];

describe.skipIf(skip)("traceNftHost() vs kernel: random rulesets", () => {
  let lab: Lab;
  let rulesets = 0;
  let probes = 0;
  let rules = 0;
  const outcomes = new Map<string, number>();
  beforeAll(async () => {
    lab = await createLab(oracleLabSpec("nftr"));
  });
  afterAll(async () => {
    await lab?.destroy();
    console.log(
      `nftables kernel suite (random): ${rulesets} rulesets (${rules} rules), ${probes} probes; predicted dispositions: ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
  });

  for (const [i, seed] of SEEDS.entries()) {
    it(`batch ${i + 1} (${RUNS} rulesets x ${PROBES.length} probes)`, { timeout: 300_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(randomNftRulesetArb(), async (rs) => {
          const { ruleset, dump } = loadAndParse(lab, rs.text);
          rulesets++;
          rules += rs.rules;
          for (const probe of PROBES) {
            probes++;
            const cmp = await compareNftProbe(lab, ruleset, probe, { timeoutMs: 250 });
            expect(cmp.mismatch, describeNftMismatch(cmp, dump)).toBeUndefined();
            for (const p of cmp.paths) outcomes.set(p.disposition, (outcomes.get(p.disposition) ?? 0) + 1);
            if (cmp.predicted.size > 1) outcomes.set("random", (outcomes.get("random") ?? 0) + 1);
          }
        }),
        { numRuns: RUNS, seed: Number(process.env.ND_NFT_SEED ?? seed), endOnFailure: true },
      );
    });
  }
});
