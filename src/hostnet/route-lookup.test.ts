import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { parseIpRoute } from "./ip-route.ts";
import { parseIpRule } from "./ip-rule.ts";
import { lookupRoute, type RouteDecision } from "./route-lookup.ts";

// Routes and rules: VARIETY in src/testing/overlay-lab-capture.ts. Each expectation is what the
// kernel's fib_lookup does with those rules (ip-rule(8), ip-route(8)), stated by hand.
const tables = {
  routes: parseIpRoute(fixtureText("variety/ip-route.json"), { file: "ip-route.json" }).routes,
  rules: parseIpRule(fixtureText("variety/ip-rule.json"), { file: "ip-rule.json" }).rules,
};

function via(d: RouteDecision): string {
  switch (d.kind) {
    case "unicast":
      return `unicast ${d.nextHop.gateway ?? "direct"} ${d.nextHop.dev ?? ""} table ${d.table}`;
    case "blocked":
      return `blocked ${d.how}`;
    case "local":
    case "broadcast":
    case "none":
      return d.kind;
    case "unknown":
      return `unknown ${d.reason}`;
    default:
      return "?";
  }
}

describe("lookupRoute()", () => {
  it.each([
    [{ dst: "198.18.9.1" }, "blocked blackhole"],
    [{ dst: "198.18.10.1" }, "blocked unreachable"],
    [{ dst: "198.18.11.1" }, "blocked prohibit"],
    [{ dst: "198.18.5.1" }, "local"],
    [{ dst: "198.18.5.9" }, "unicast direct v0 table main"],
    [{ dst: "203.0.113.9" }, "unicast 198.18.5.254 v0 table main"],
    // from 198.18.7.0/24 → table 100, lowest metric wins among equal prefixes
    [{ dst: "198.18.12.1", src: "198.18.7.5" }, "unicast 198.18.5.3 v0 table 100"],
    // throw in table 100 falls through to the next rules, then main
    [{ dst: "198.18.14.1", src: "198.18.7.5" }, "unicast 198.18.5.4 v0 table main"],
    // table 100 has no match for this address: on to main
    [{ dst: "198.18.5.20", src: "198.18.7.5" }, "unicast direct v0 table main"],
    [{ dst: "198.18.8.8" }, "blocked blackhole"],
    [{ dst: "198.18.1.1", src: "198.18.6.6" }, "blocked unreachable"],
    // `not to 198.18.0.0/15 fwmark 0x10/0xff` inverts the whole match (FIB_RULE_INVERT): every packet
    // that is not both inside 198.18/15 and marked goes to table 100, which has 198.18.12.0/24 only
    [{ dst: "198.18.12.1" }, "unicast 198.18.5.3 v0 table 100"],
    [{ dst: "203.0.113.9", fwmark: 0x110 }, "unicast 198.18.5.254 v0 table main"],
    // inside 198.18/15 and marked: rule 101 does not apply; iif v0 (rule 103) does, locally made packets (iif lo) do not
    [{ dst: "198.18.12.1", fwmark: 0x10, iif: "v0" }, "unicast 198.18.5.3 v0 table 100"],
    [{ dst: "198.18.12.1", fwmark: 0x10 }, "unicast 198.18.5.254 v0 table main"],
    // goto 32766 (rule 106) jumps to main
    [{ dst: "198.18.12.1", src: "198.18.6.8", fwmark: 0x10 }, "unicast 198.18.5.254 v0 table main"],
  ])("decides %o as %s", (q, expected) => {
    expect(via(lookupRoute(q, tables))).toBe(expected);
  });

  it("is undecided when a rule with unmodelled selectors matches", () => {
    expect(via(lookupRoute({ dst: "198.18.1.1", src: "198.18.6.7" }, tables))).toMatch(
      /^unknown policy rule 105 matches on ipproto, dport/,
    );
  });

  it("returns the first next hop of a multipath route and the others", () => {
    const d = lookupRoute({ dst: "198.18.13.4" }, tables);
    expect(d.kind === "unicast" && [d.nextHop.gateway, d.otherNextHops.map((h) => h.gateway)]).toEqual([
      "198.18.5.2",
      ["198.18.5.3"],
    ]);
  });

  it("points at the rule and the route that decided", () => {
    const d = lookupRoute({ dst: "198.18.12.1", src: "198.18.7.5" }, tables);
    expect(d.evidence.map((e) => e.file)).toEqual(["ip-rule.json", "ip-route.json"]);
    expect(d.evidence[0]?.text).toMatch(/"priority":100/);
  });

  it("says none when no rule leads to a route", () => {
    expect(lookupRoute({ dst: "10.0.0.1" }, { routes: [], rules: tables.rules }).kind).toBe("none");
    expect(() => lookupRoute({ dst: "::1" }, tables)).toThrow(TypeError);
  });
});
