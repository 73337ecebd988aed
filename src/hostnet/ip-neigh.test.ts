import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { neighborResolves, parseIpNeigh } from "./ip-neigh.ts";

describe("parseIpNeigh()", () => {
  it("reads PERMANENT, STALE (router) and FAILED entries of real `ip -j neigh show` output", () => {
    const { neighbors, warnings } = parseIpNeigh(fixtureText("variety/ip-neigh.json"), { file: "n.json" });
    expect(warnings).toEqual([]);
    const by = new Map(neighbors.map((n) => [n.dst, n]));
    expect(by.get("198.18.5.7")).toMatchObject({
      dev: "v0",
      lladdr: "02:00:00:00:00:07",
      state: ["PERMANENT"],
    });
    // Upper-case input (02:00:00:00:00:0A) comes back lower case.
    expect(by.get("198.18.5.10")).toMatchObject({ lladdr: "02:00:00:00:00:0a", state: ["STALE"] });
    expect(by.get("198.18.5.9")?.lladdr).toBeUndefined();
    expect(neighborResolves(by.get("198.18.5.7")!)).toBe(true);
    expect(neighborResolves(by.get("198.18.5.9")!)).toBe(false);
  });

  it("reads flannel's permanent entry for each peer in the lab", () => {
    const { neighbors } = parseIpNeigh(fixtureText("lab/healthy/nodes/node-a/ip-neigh.json"), { file: "n" });
    const overlay = neighbors.filter((n) => n.dev === "flannel.1").map((n) => [n.dst, n.state]);
    expect(overlay.sort()).toEqual([
      ["198.18.2.0", ["PERMANENT"]],
      ["198.18.3.0", ["PERMANENT"]],
    ]);
  });
});
