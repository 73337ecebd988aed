import { describe, expect, test } from "vitest";
import { kubeProxyFixtures, sharedFixturesUnavailable } from "../testing/shared-fixtures.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { parseDump } from "./parse-dump.ts";

// The fixtures live outside the project (../shared) and are not copied into it, so a checkout without
// them (CI included) skips these tests with the reason rather than failing (skipBecause would throw under CI).
const reason = sharedFixturesUnavailable();
if (reason !== undefined) console.warn(`SKIP kube-proxy fixture tests: ${reason}`);
const skip = reason !== undefined;
const files = skip ? [] : kubeProxyFixtures();
/** nftables text: kube-proxy's nftables-mode transaction and `nft list` output. */
const isNft = (name: string) => name.endsWith(".nft.txt") || /(^|\/)nft-?list/.test(name);
const iptables = files.filter((f) => !isNft(f.name));
const nft = files.filter((f) => isNft(f.name));

/** Counts `-A` lines and `:` declarations by plain text, independently of the parser. */
function textCounts(text: string) {
  const lines = text.split("\n");
  return {
    rules: lines.filter((l) => /^(\[\d+:\d+\] )?-A /.test(l)).length,
    chains: lines.filter((l) => l.startsWith(":")).length,
  };
}

describe.skipIf(skip)("kube-proxy fixtures", () => {
  test("the fixture set has the expected files", () => {
    expect(iptables.length).toBe(13);
    expect(nft.map((f) => f.name)).toEqual([
      "kube-proxy-nftables-v1.31to1.35-TestOverallNFTablesRules.nft.txt",
      "normalized/nft-list-v1.31to1.35-TestOverallNFTablesRules.txt",
      "normalized/nftlist-of-iptables-nft-nat-v1.31ish-TestOverallIPTablesRules.txt",
    ]);
  });

  test.each(iptables.map((f) => [f.name, f] as const))("parseDump() reads %s with no warnings", (_, f) => {
    const rs = parseDump(f.text);
    expect(rs.warnings).toEqual([]);
    const want = textCounts(f.text);
    expect(rs.ruleCount).toBe(want.rules);
    expect([...rs.tables.values()].reduce((n, t) => n + t.chains.size, 0)).toBe(want.chains);
    const lines = f.text.split("\n");
    for (const table of rs.tables.values()) {
      for (const chain of table.chains.values()) {
        for (const rule of chain.rules) {
          expect(lines[rule.line - 1]).toBe(rule.raw);
          expect(rule.spec.matches.every((m) => m.known)).toBe(true);
        }
      }
    }
  });

  test("the legacy and nf_tables dumps of one fixture parse to the same rules, with and without -c", () => {
    const byName = new Map(iptables.map((f) => [f.name, f.text]));
    const texts = (text: string) =>
      [...parseDump(text).tables.values()].flatMap((t) =>
        [...t.chains.values()].flatMap((c) => c.rules.map((r) => `${t.name} ${r.text}`)),
      );
    for (const era of [
      "v1.21ish-TestHealthCheckNodePortE2E",
      "v1.23ish-TestOverallIPTablesRulesWithMultipleServices",
      "v1.31ish-TestOverallIPTablesRules",
    ]) {
      const legacy = byName.get(`normalized/legacy-${era}.save.txt`)!;
      const legacyC = byName.get(`normalized/legacy-${era}.save-c.txt`)!;
      const nftText = byName.get(`normalized/nft-${era}.save.txt`)!;
      expect(texts(legacyC)).toEqual(texts(legacy));
      expect(texts(nftText)).toEqual(texts(legacy));
      expect(parseDump(legacy).header.backend).toBe("legacy");
      expect(parseDump(nftText).header.backend).toBe("nf_tables");
    }
  });

  test.each(nft.map((f) => [f.name, f] as const))(
    "parseDump() asks for iptables-save instead of %s",
    (_, f) => {
      let caught: unknown;
      try {
        parseDump(f.text);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DumpSyntaxError);
      expect((caught as DumpSyntaxError).message).toBe(
        "Cannot parse dump at line 1: this is nftables output (`nft list ruleset` or an `nft -f` script), not iptables-save output: run `iptables-save` (or `iptables-nft-save`) on the node instead",
      );
    },
  );
});
