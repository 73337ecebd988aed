import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { parseIpRoute } from "./ip-route.ts";

// Expectations come from the commands in src/testing/overlay-lab-capture.ts (VARIETY) and from the
// lab's address layout (src/testing/overlay-lab.ts), not from the parser.
describe("parseIpRoute()", () => {
  const { routes, warnings } = parseIpRoute(fixtureText("variety/ip-route.json"), {
    file: "variety/ip-route.json",
  });
  const v4 = routes.filter((r) => r.family === "inet");
  const find = (dst: string, table = "main") => v4.find((r) => r.dst === dst && r.table === table);

  it("reads every route type of real `ip -j route show table all` output", () => {
    expect(warnings).toEqual([]);
    expect(find("198.18.9.0/24")?.type).toBe("blackhole");
    expect(find("198.18.10.0/24")?.type).toBe("unreachable");
    expect(find("198.18.11.0/24")?.type).toBe("prohibit");
    expect(find("198.18.14.0/24", "100")?.type).toBe("throw");
    expect(find("198.18.5.1", "local")).toMatchObject({ type: "local", dev: "v0", cidr: { prefix: 32 } });
    expect(find("default")).toMatchObject({
      type: "unicast",
      gateway: "198.18.5.254",
      cidr: { base: 0, prefix: 0 },
    });
  });

  it("keeps tables, metrics, onlink and multipath next hops", () => {
    const t100 = v4.filter((r) => r.table === "100" && r.dst === "198.18.12.0/24");
    expect(t100.map((r) => [r.gateway, r.metric]).sort()).toEqual([
      ["198.18.5.2", 100],
      ["198.18.5.3", 50],
    ]);
    expect(find("198.18.15.0/24")).toMatchObject({ gateway: "198.18.5.5", dev: "v0", flags: ["onlink"] });
    expect(find("198.18.13.0/24")?.nexthops).toEqual([
      { gateway: "198.18.5.2", dev: "v0", weight: 1, flags: [] },
      { gateway: "198.18.5.3", dev: "v0", weight: 2, flags: [] },
    ]);
  });

  it("tells IPv6 routes apart, also `default` ones without an address", () => {
    expect(routes.some((r) => r.family === "inet6" && r.dst === "fe80::/64")).toBe(true);
    const d = parseIpRoute('[{"dst":"default","dev":"wg0","metric":1024,"flags":[],"pref":"medium"}]', {
      file: "x",
    });
    expect(d.routes[0]?.family).toBe("inet6");
  });

  it("reads flannel's onlink route to a peer in the lab", () => {
    const lab = parseIpRoute(fixtureText("lab/healthy/nodes/node-a/ip-route.json"), { file: "a" });
    expect(lab.routes.find((r) => r.dst === "198.18.2.0/24")).toMatchObject({
      table: "main",
      type: "unicast",
      gateway: "198.18.2.0",
      dev: "flannel.1",
      flags: ["onlink"],
      evidence: { file: "a", line: 1 },
    });
  });

  it("warns about routes it cannot read and keeps the rest", () => {
    const r = parseIpRoute(
      '[{"dst":"10.0.0.0/8","dev":"x","flags":[]},{"dev":"y"},{"type":"weird","dst":"1.2.3.4"},7]',
      {
        file: "r.json",
      },
    );
    expect(r.routes.map((x) => x.dst)).toEqual(["10.0.0.0/8"]);
    expect(r.warnings.map((w) => w.reason)).toEqual([
      '$[1] has no "dst"',
      'unknown route type "weird"',
      "$[3] is not a JSON object",
    ]);
  });
});
