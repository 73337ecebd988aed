import { describe, expect, it } from "vitest";
import { cidrWithin, coveringCidr, ipInCidr, isIpv6Literal } from "./cidr.ts";

describe("ipInCidr()", () => {
  it("answers membership for IPv4 and false for anything else", () => {
    expect(ipInCidr("10.42.2.17", "10.42.2.0/24")).toBe(true);
    expect(ipInCidr("10.42.3.1", "10.42.2.0/24")).toBe(false);
    expect(ipInCidr("8.8.8.8", "0.0.0.0/0")).toBe(true);
    expect(ipInCidr("fd00::1", "10.0.0.0/8")).toBe(false);
    expect(ipInCidr("10.0.0.1", "nonsense")).toBe(false);
  });
});

describe("coveringCidr()", () => {
  it("finds the smallest network holding every address (hand-computed)", () => {
    expect(coveringCidr(["10.43.0.1", "10.43.176.183"])).toBe("10.43.0.0/16");
    expect(coveringCidr(["10.42.0.0/24", "10.42.1.0/24", "10.42.2.0/24"])).toBe("10.42.0.0/22");
    // 10.96 = 0110 0000 and 10.100 = 0110 0100 share 8 + 5 bits.
    expect(coveringCidr(["10.96.0.1", "10.100.12.7"])).toBe("10.96.0.0/13");
    expect(coveringCidr(["192.168.1.7"])).toBe("192.168.1.7/32");
    expect(coveringCidr(["10.0.0.1", "192.168.0.1"])).toBe("0.0.0.0/0");
    expect(coveringCidr(["None", "fd00::1"])).toBeUndefined();
  });
});

describe("cidrWithin()", () => {
  it("is true only for a network inside another", () => {
    expect(cidrWithin("10.42.0.0/22", "10.42.0.0/16")).toBe(true);
    expect(cidrWithin("10.42.0.0/16", "10.42.0.0/22")).toBe(false);
    expect(cidrWithin("10.44.0.0/16", "10.42.0.0/16")).toBe(false);
  });
});

describe("isIpv6Literal()", () => {
  it("recognises IPv6 literals with or without brackets, not names or IPv4", () => {
    for (const t of ["fd00::1", "[fd00::1]", "::1", "2001:db8:0:0:0:0:0:1", "::ffff:10.0.0.1"]) {
      expect(isIpv6Literal(t), t).toBe(true);
    }
    for (const t of ["10.0.0.1", "eopx-register", "a:b:c", "fd00::1::2"]) {
      expect(isIpv6Literal(t), t).toBe(false);
    }
  });
});
