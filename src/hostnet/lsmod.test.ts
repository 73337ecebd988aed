import { describe, expect, it } from "vitest";
import { parseLsmod } from "./lsmod.ts";

describe("parseLsmod()", () => {
  // This machine has no /proc/modules, so lsmod cannot run here: the sample follows kmod's format
  // (`%-19s %8lu  %d` then the holders).
  it("reads modules with their users", () => {
    const t = parseLsmod(
      "Module                  Size  Used by\nbr_netfilter           32768  0\nbridge                311296  1 br_netfilter\nvxlan                 86016  0\nnf_tables             307200  12 nft_compat,nft_chain_nat\n",
      { file: "l" },
    );
    expect([...t.modules.keys()]).toEqual(["br_netfilter", "bridge", "vxlan", "nf_tables"]);
    expect(t.modules.get("bridge")).toMatchObject({
      usedBy: 1,
      holders: ["br_netfilter"],
      evidence: { line: 3 },
    });
    expect(t.modules.get("nf_tables")?.holders).toEqual(["nft_compat", "nft_chain_nat"]);
  });
});
