import { describe, expect, it } from "vitest";
import { parseSubnetEnv } from "./subnet-env.ts";

describe("parseSubnetEnv()", () => {
  it("reads flannel's subnet.env", () => {
    const s = parseSubnetEnv(
      "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n",
      { file: "f" },
    );
    expect(s.network?.value).toBe("10.42.0.0/16");
    expect(s.subnet?.value).toBe("10.42.1.1/24");
    expect(s.mtu).toMatchObject({ value: 1450, evidence: { line: 3, text: "FLANNEL_MTU=1450" } });
    expect(s.values.get("FLANNEL_IPMASQ")?.value).toBe("true");
  });

  it("warns about lines that are not KEY=value", () => {
    expect(parseSubnetEnv("# c\n\nnot a line\n", { file: "f" }).warnings).toMatchObject([{ line: 3 }]);
  });
});
