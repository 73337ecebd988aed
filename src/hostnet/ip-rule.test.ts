import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { parseIpRule } from "./ip-rule.ts";

// Expectations: the `ip rule add` commands of VARIETY in src/testing/overlay-lab-capture.ts.
describe("parseIpRule()", () => {
  const { rules, warnings } = parseIpRule(fixtureText("variety/ip-rule.json"), { file: "r.json" });
  const at = (p: number) => rules.find((r) => r.priority === p);

  it("reads selectors, negation and every action of real `ip -j rule show` output", () => {
    expect(warnings).toEqual([]);
    expect(rules.map((r) => r.priority)).toEqual([0, 100, 101, 102, 103, 104, 105, 106, 32766, 32767]);
    expect(at(0)).toMatchObject({ action: "table", table: "local", not: false });
    expect(at(100)).toMatchObject({ action: "table", table: "100", src: { prefix: 24 } });
    expect(at(101)).toMatchObject({
      not: true,
      dst: { prefix: 15 },
      fwmark: 0x10,
      fwmask: 0xff,
      table: "100",
    });
    expect(at(102)).toMatchObject({ action: "blackhole", dst: { prefix: 32 } });
    expect(at(103)).toMatchObject({ iif: "v0", table: "100" });
    expect(at(104)).toMatchObject({ action: "unreachable" });
    expect(at(106)).toMatchObject({ action: "goto", goto: 32766 });
  });

  it("marks selectors it does not model instead of ignoring them", () => {
    expect(at(105)).toMatchObject({ action: "prohibit", unmodelled: ["ipproto", "dport"] });
    expect(at(100)?.unmodelled).toBeUndefined();
  });
});
