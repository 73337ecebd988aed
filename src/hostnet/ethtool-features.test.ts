import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { parseEthtoolFeatures } from "./ethtool-features.ts";

describe("parseEthtoolFeatures()", () => {
  it("reads real `ethtool -k flannel.1` output, with [fixed] and sub-features", () => {
    const e = parseEthtoolFeatures(fixtureText("lab/healthy/nodes/node-a/ethtool-k-flannel.1.txt"), {
      file: "e",
    });
    expect(e.warnings).toEqual([]);
    expect(e.ifname).toBe("flannel.1");
    expect(e.features.get("tx-checksum-ip-generic")).toMatchObject({
      on: true,
      fixed: false,
      evidence: { line: 5 },
    });
    expect(e.features.get("tx-checksum-ipv4")).toMatchObject({ on: false, fixed: true });
    // The lab turns TSO/GSO off on flannel.1 (src/testing/overlay-lab.ts).
    expect(e.features.get("tcp-segmentation-offload")?.on).toBe(false);
  });

  it("reads `[requested on]` and takes empty output as no interface", () => {
    const e = parseEthtoolFeatures("Features for x:\n\ttx-checksum-ip-generic: off [requested on]\n", {
      file: "e",
    });
    expect(e.features.get("tx-checksum-ip-generic")).toMatchObject({ on: false, fixed: false });
    expect(parseEthtoolFeatures("", { file: "e" })).toMatchObject({ features: new Map() });
  });
});
