/**
 * parseNftRuleset() on what the real nft prints in a throw-away namespace: the stored dumps of
 * testdata/nft/ are still what nft prints for their sources (ND_UPDATE_TESTDATA=1 rewrites them),
 * and for every hand-written kernel-suite ruleset, every rule of the JSON is found on the text line
 * that ends with its own `# handle N`, with no parse warning.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { nftRoundTrip, nftUnavailable } from "../testing/nft-lab.ts";
import { NFT_SCENARIOS } from "../testing/nft-scenarios.ts";
import { NFT_TESTDATA, nftTestdataSources, regenerateDump, storedDump } from "../testing/nft-testdata.ts";
import { parseNftRuleset } from "./parse-nft-json.ts";

const skip = skipBecause(netnsUnavailable() ?? nftUnavailable(), "real nft parser tests");

describe.skipIf(skip)("parseNftRuleset() on real nft output", () => {
  for (const source of nftTestdataSources()) {
    it(`testdata/nft/${source} is what nft prints`, () => {
      const fresh = regenerateDump(source);
      const stem = source.replace(/\.(nft|save)$/, "");
      if (process.env.ND_UPDATE_TESTDATA === "1") {
        writeFileSync(join(NFT_TESTDATA, `${stem}.json`), fresh.json);
        writeFileSync(join(NFT_TESTDATA, `${stem}.txt`), fresh.text);
      }
      const stored = storedDump(source);
      const version = /"version": "([^"]+)"/.exec(stored.json)?.[1];
      const local = /"version": "([^"]+)"/.exec(fresh.json)?.[1];
      if (version === local) {
        expect(fresh).toEqual(stored);
      } else {
        // Another nft prints differently; the parsed structure must still agree.
        console.warn(`nft ${local} here, testdata from nft ${version}: comparing parsed structure only`);
        const shape = (j: string) =>
          parseNftRuleset(j).tables.map((t) => [
            t.family,
            t.name,
            [...t.chains.values()].map((c) => [c.name, c.rules.length]),
          ]);
        expect(shape(fresh.json)).toEqual(shape(stored.json));
      }
    });
  }

  for (const scenario of NFT_SCENARIOS) {
    it(`every rule of "${scenario.name}" has its text line`, () => {
      const dump = nftRoundTrip(scenario.ruleset);
      const rs = parseNftRuleset(dump.json, { text: dump.text });
      expect(rs.warnings).toEqual([]);
      const lines = dump.text.split("\n");
      let rules = 0;
      for (const t of rs.tables) {
        expect(t.text?.text).toMatch(new RegExp(`^table ${t.family} ${t.name} \\{ # handle ${t.handle}$`));
        for (const c of t.chains.values()) {
          expect(lines[c.text!.line - 1]!.trim()).toBe(`chain ${c.name} { # handle ${c.handle}`);
          for (const r of c.rules) {
            rules++;
            expect(lines[r.text!.line - 1]!.trim().endsWith(`# handle ${r.handle}`)).toBe(true);
          }
        }
      }
      expect(rules).toBeGreaterThan(0);
    });
  }
});
