import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { parseBridgeFdb } from "./bridge-fdb.ts";

describe("parseBridgeFdb()", () => {
  it("reads VXLAN remote entries (with dst) and bridge entries of real `bridge -j fdb show` output", () => {
    const { entries, warnings } = parseBridgeFdb(fixtureText("variety/bridge-fdb.json"), { file: "f.json" });
    expect(warnings).toEqual([]);
    const vx = entries.filter((e) => e.ifname === "vx9").map((e) => [e.mac, e.dst, e.state]);
    expect(vx).toContainEqual(["02:00:00:00:00:99", "198.18.5.99", "permanent"]);
    expect(vx).toContainEqual(["00:00:00:00:00:00", "198.18.5.98", "permanent"]);
  });

  it("reads one entry per peer VtepMAC on flannel.1 in the lab, pointing at the peer's public IP", () => {
    const { entries } = parseBridgeFdb(fixtureText("lab/healthy/nodes/node-a/bridge-fdb.json"), {
      file: "f",
    });
    const dsts = entries.filter((e) => e.ifname === "flannel.1").map((e) => e.dst);
    expect(dsts.sort()).toEqual(["198.19.255.12", "198.19.255.13"]);
    expect(entries.some((e) => e.master === "cni0")).toBe(true);
  });
});
