/**
 * parseNftRuleset() on dumps the real nft 1.0.6 printed (testdata/nft/, regenerated and checked by
 * nft-testdata.netns.test.ts), with expectations read off the `nft -a list ruleset` text by hand.
 */
import { describe, expect, it } from "vitest";
import { storedDump } from "../testing/nft-testdata.ts";
import { findTable } from "./nft-ruleset.ts";
import { parseNftRuleset } from "./parse-nft-json.ts";

const kitchen = storedDump("kitchen-sink.nft");
const ipt = storedDump("iptables-nft.save");

describe("parseNftRuleset()", () => {
  it("reads tables, base chains, rules and handles of a real dump", () => {
    const rs = parseNftRuleset(kitchen.json, { text: kitchen.text });
    expect(rs.nftVersion).toBe("1.0.6");
    expect(rs.jsonSchemaVersion).toBe(1);
    const fw = findTable(rs, "inet", "fw")!;
    expect(fw.handle).toBe(1);
    expect(fw.owner).toBe("nftables");
    const input = fw.chains.get("input")!;
    expect(input.base).toEqual({ type: "filter", hook: "input", priority: 10, policy: "drop" });
    expect(input.rules.map((r) => r.handle)).toEqual([
      11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 23, 24, 26, 27,
    ]);
    expect(fw.chains.get("sub")!.base).toBeUndefined();
    expect(fw.chains.get("pre")!.base).toMatchObject({ type: "nat", hook: "prerouting", priority: -100 });
  });

  it("keeps each rule's line in the text dump, even with '# handle' inside a comment", () => {
    const rs = parseNftRuleset(kitchen.json, { text: kitchen.text });
    const input = findTable(rs, "inet", "fw")!.chains.get("input")!;
    const r15 = input.rules.find((r) => r.handle === 15)!;
    expect(r15.comment).toBe("trusted # handle 99");
    expect(r15.text?.line).toBe(32);
    expect(r15.text?.text).toMatch(/# handle 15$/);
    expect(input.rules.find((r) => r.handle === 27)!.text?.line).toBe(41);
    expect(input.text?.line).toBe(26);
  });

  it("takes ingress devices from the text, which nft 1.0.6 leaves out of the JSON", () => {
    const noText = parseNftRuleset(kitchen.json);
    expect(findTable(noText, "inet", "fw")!.chains.get("ing")!.base!.devices).toBeUndefined();
    const rs = parseNftRuleset(kitchen.json, { text: kitchen.text });
    expect(findTable(rs, "inet", "fw")!.chains.get("ing")!.base).toMatchObject({
      hook: "ingress",
      priority: -500,
      devices: ["lo"],
    });
  });

  it("reads sets, maps, intervals, concatenations and element data", () => {
    const fw = findTable(parseNftRuleset(kitchen.json), "inet", "fw")!;
    const pairs = fw.sets.get("pairs")!;
    expect(pairs.keyType).toEqual(["ipv4_addr", "inet_service"]);
    expect(pairs.flags).toEqual(["interval"]);
    expect(pairs.elements).toHaveLength(2);
    expect(pairs.elements[0]!.key).toEqual({
      kind: "concat",
      items: [
        { kind: "prefix", addr: { kind: "immediate", value: "10.0.0.0" }, len: 8 },
        { kind: "range", from: { kind: "immediate", value: 80 }, to: { kind: "immediate", value: 90 } },
      ],
    });
    const pm = fw.sets.get("pm")!;
    expect(pm.dataType).toEqual(["verdict"]);
    expect(pm.elements.map((e) => e.data)).toEqual([
      { kind: "verdict", verdict: { kind: "drop" } },
      { kind: "verdict", verdict: { kind: "accept" } },
    ]);
    expect(fw.sets.get("dm")!.dataType).toEqual(["ipv4_addr"]);
  });

  it('marks a dormant table (nft 1.0.6 prints the flag as "dorm")', () => {
    const rs = parseNftRuleset(kitchen.json);
    expect(findTable(rs, "ip", "dorm")!.dormant).toBe(true);
    expect(findTable(rs, "inet", "fw")!.dormant).toBe(false);
  });

  it("keeps rules it cannot evaluate and warns about each (limit, jhash), Batfish style", () => {
    const rs = parseNftRuleset(kitchen.json);
    expect(rs.warnings.map((w) => [w.handle, w.message])).toEqual([
      [20, "Cannot evaluate rule handle 20 in chain inet fw input: statement limit is not modelled"],
      [21, "Cannot evaluate rule handle 21 in chain inet fw input: statement limit is not modelled"],
      [23, "Cannot evaluate rule handle 23 in chain inet fw input: expression jhash is not modelled"],
    ]);
  });

  it("says iptables-nft owns tables with xt expressions, and why", () => {
    const rs = parseNftRuleset(ipt.json, { text: ipt.text });
    const filter = findTable(rs, "ip", "filter")!;
    expect(filter.owner).toBe("iptables-nft");
    expect(filter.ownerReason).toBe("xt expressions (chain INPUT, handle 5)");
    expect(findTable(rs, "ip", "nat")!.owner).toBe("iptables-nft");
    const r5 = filter.chains.get("INPUT")!.rules[0]!;
    expect(r5.stmts.filter((s) => s.kind === "xt")).toEqual([
      { kind: "xt", type: "match", name: "conntrack" },
      { kind: "xt", type: "match", name: "comment" },
    ]);
    expect(rs.warnings.some((w) => /handle 5 .*xt match conntrack/.test(w.message))).toBe(true);
    expect(r5.text?.line).toBe(4);
  });

  it("maps rules to lines by position when the text was printed without -a", () => {
    const plain = kitchen.text.replace(/ # handle \d+$/gm, "");
    const rs = parseNftRuleset(kitchen.json, { text: plain });
    const input = findTable(rs, "inet", "fw")!.chains.get("input")!;
    expect(input.rules.find((r) => r.handle === 15)!.text?.line).toBe(32);
    expect(input.rules.find((r) => r.handle === 27)!.text?.line).toBe(41);
  });

  it("throws a SyntaxError with line and column for text that is not JSON", () => {
    expect(() => parseNftRuleset('{"nftables": [\n  {"table": }\n]}')).toThrow(
      /^Cannot parse nft JSON at line 2, column 13: Unexpected token/,
    );
    expect(() => parseNftRuleset('{"nftables": [')).toThrow(/at line 1, column 15: unexpected end of JSON/);
    expect(() => parseNftRuleset("table ip filter {\n}")).toThrow(SyntaxError);
  });

  it("throws for JSON that is not a ruleset dump", () => {
    expect(() => parseNftRuleset('{"items": []}')).toThrow(
      'Cannot parse nft JSON at line 1, column 1: expected an object with an "nftables" array (the output of nft -j list ruleset)',
    );
  });

  it("collects what it cannot place as warnings and keeps the rest", () => {
    const rs = parseNftRuleset(
      JSON.stringify({
        nftables: [
          { metainfo: { version: "9.9", json_schema_version: 2 } },
          { table: { family: "ip", name: "t", handle: 1 } },
          { chain: { family: "ip", table: "t", name: "c", handle: 1 } },
          { rule: { family: "ip", table: "t", chain: "gone", handle: 2, expr: [{ accept: null }] } },
          { rule: { family: "ip", table: "x", chain: "c", handle: 3, expr: [] } },
          { teleport: { to: "mars" } },
          { rule: { family: "ip", table: "t", chain: "c", handle: 4, expr: [{ frobnicate: {} }] } },
        ],
      }),
    );
    expect(rs.warnings.map((w) => w.message)).toEqual([
      'Cannot read item 5: unknown object "teleport" (ignored)',
      "Cannot place rule at item 4: table ip x is not in the dump",
      "JSON schema version 2 is newer than the one netdoctor reads (1)",
      "Cannot place 1 rule(s) of chain ip t gone: the chain is not in the dump",
      "Cannot evaluate rule handle 4 in chain ip t c: statement frobnicate is not modelled",
    ]);
    expect(findTable(rs, "ip", "t")!.chains.get("c")!.rules).toHaveLength(1);
  });
});
