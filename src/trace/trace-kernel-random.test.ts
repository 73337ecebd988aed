/**
 * Property: on random loadable rulesets (random-ruleset.ts), every outcome the tracer predicts with
 * probability > 0 is what the kernel does, and the kernel shows nothing else. Four batches of
 * generated rulesets (one on the legacy backend); seeds are fixed so CI is reproducible
 * (ND_TRACE_SEED overrides them to explore).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTraceSteps } from "../model/trace.ts";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import { randomRulesetArb, SOURCE_PORT_CLASSES } from "../testing/random-ruleset.ts";
import {
  compareProbe,
  describeMismatch,
  type OracleProbe,
  oracleLabSpec,
  savedRuleset,
} from "../testing/trace-oracle.ts";

const skip = skipBecause(netnsUnavailable(), "kernel trace property tests");

const RUNS_PER_BATCH = Number(process.env.ND_TRACE_RUNS ?? 55);
const BATCHES: ReadonlyArray<{ backend: "nft" | "legacy"; seed: number }> = [
  { backend: "nft", seed: 1101 },
  { backend: "nft", seed: 2202 },
  { backend: "legacy", seed: 3303 },
  { backend: "nft", seed: 4404 },
];

const cls = fc.constantFrom(...SOURCE_PORT_CLASSES);
const probeArb: fc.Arbitrary<OracleProbe[]> = fc.tuple(cls, cls, cls, cls).map(([a, b, c, d]) => [
  { from: "pod", dstIp: "198.19.0.10", dstPort: 80, srcPortRange: a },
  { from: "pod", dstIp: "198.18.2.1", dstPort: 8080, srcPortRange: b },
  { from: "pod2", dstIp: "198.18.0.1", dstPort: 443, srcPortRange: c },
  { from: "node", dstIp: "198.19.0.10", dstPort: 443, srcPortRange: d },
]);

describe.skipIf(skip)("tracer vs kernel: random rulesets", () => {
  let lab: Lab | undefined;
  let labBackend: string | undefined;
  let cases = 0;
  const seen = new Map<string, number>();
  beforeAll(() => {
    cases = 0;
  });
  afterAll(async () => {
    await lab?.destroy();
    console.log(`kernel property cases run: ${cases}; outcomes: ${JSON.stringify(Object.fromEntries(seen))}`);
  });

  for (const [i, batch] of BATCHES.entries()) {
    it(`batch ${i + 1} (${batch.backend}, ${RUNS_PER_BATCH} rulesets x 4 probes)`, {
      timeout: 240_000,
    }, async () => {
      if (labBackend !== batch.backend) {
        await lab?.destroy();
        lab = await createLab(oracleLabSpec("trace", batch.backend));
        labBackend = batch.backend;
      }
      const l = lab!;
      await fc.assert(
        fc.asyncProperty(randomRulesetArb(), probeArb, async (rs, probes) => {
          cases++;
          await l.load(rs.text);
          const { text, ruleset } = savedRuleset(l);
          for (const probe of probes) {
            const cmp = await compareProbe(l, ruleset, probe, {
              timeoutMs: 200,
              maxAttempts: rs.stateful ? 24 : 40,
              ...(rs.stateful ? { reload: rs.text } : {}),
            });
            expect(cmp.mismatch, describeMismatch(cmp, text)).toBeUndefined();
            for (const p of cmp.paths) {
              checkTraceSteps(p);
              const d = p.disposition;
              const k = d.kind === "rejected" ? `reject ${d.rejectWith}` : d.kind;
              seen.set(k, (seen.get(k) ?? 0) + 1);
            }
            if (cmp.predicted.size > 1) seen.set("random", (seen.get("random") ?? 0) + 1);
          }
        }),
        {
          numRuns: RUNS_PER_BATCH,
          seed: Number(process.env.ND_TRACE_SEED ?? batch.seed),
          endOnFailure: true,
        },
      );
    });
  }
});
