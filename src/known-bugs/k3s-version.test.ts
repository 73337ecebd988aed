import { describe, expect, it } from "vitest";
import { hasPreferBundledBin, isK3sVersion, k3sVersionLine } from "./k3s-version.ts";

describe("hasPreferBundledBin()", () => {
  // The k3s docs (Known Issues): "available starting with the 2022-12 releases (v1.26.0+k3s1,
  // v1.25.5+k3s1, v1.24.9+k3s1, v1.23.15+k3s1)".
  it.each([
    ["k3s version v1.23.6+k3s1 (418c3fa8)", false],
    ["k3s version v1.23.15+k3s1 (abc)", true],
    ["v1.24.8+k3s1", false],
    ["v1.24.9+k3s1", true],
    ["v1.25.5+k3s1", true],
    ["v1.22.17+k3s1", false],
    ["v1.26.0+k3s1", true],
    ["v1.31.2+k3s1", true],
  ] as const)("hasPreferBundledBin(%s) is %s", (text, expected) => {
    expect(hasPreferBundledBin(text)).toBe(expected);
  });

  it("hasPreferBundledBin() is undefined without a version", () => {
    expect(hasPreferBundledBin("k3s: command not found")).toBeUndefined();
  });
});

describe("isK3sVersion() and k3sVersionLine()", () => {
  it("recognise `k3s --version` output and take its version line", () => {
    const text = "k3s version v1.27.3+k3s1 (fe9604ca)\ngo version go1.20.5\n";
    expect(isK3sVersion(text)).toBe(true);
    expect(k3sVersionLine(text)).toBe("k3s version v1.27.3+k3s1 (fe9604ca)");
    expect(isK3sVersion("sh: k3s: not found\n")).toBe(false);
    expect(isK3sVersion("iptables v1.8.9 (nf_tables)")).toBe(false);
  });
});
