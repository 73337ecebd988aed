/**
 * kube-proxy's nftables chain names against names kube-proxy itself wrote: upstream's test
 * expectations (TestOverallNFTablesRules) and a real node's `nft -a list table ip kube-proxy`
 * (../shared/realworld/kube-proxy-nftables-mode-partial.nft.txt).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { KUBE_PROXY_FIXTURES, skipWithoutSharedFixtures } from "../../testing/shared-fixtures.ts";
import { hashAndTruncate, nftEndpointChain, nftServiceChains, parseNftChainName } from "./nft-chain-names.ts";

const REALWORLD = resolve(process.cwd(), "../shared/realworld/kube-proxy-nftables-mode-partial.nft.txt");
const UPSTREAM = "kube-proxy-nftables-v1.31to1.35-TestOverallNFTablesRules.nft.txt";

describe("nft chain names", () => {
  it("hashAndTruncate() gives upstream's hashes", () => {
    expect(hashAndTruncate("ns1/svc1/tcp/p80")).toBe("ULMVA6XW-ns1/svc1/tcp/p80");
    expect(nftServiceChains({ namespace: "ns5", name: "svc5", protocol: "TCP", portName: "p80" })).toEqual({
      service: "service-HVFWP5L3-ns5/svc5/tcp/p80",
      local: "local-HVFWP5L3-ns5/svc5/tcp/p80",
      external: "external-HVFWP5L3-ns5/svc5/tcp/p80",
      firewall: "firewall-HVFWP5L3-ns5/svc5/tcp/p80",
    });
    expect(
      nftEndpointChain(
        { namespace: "ns1", name: "svc1", protocol: "tcp", portName: "p80" },
        "10.180.0.1",
        80,
      ),
    ).toBe("endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80");
  });

  it("gives a real node's names, unnamed-port and IPv6 forms included", () => {
    const p = { namespace: "default", name: "kubernetes", protocol: "tcp", portName: "https" };
    expect(nftServiceChains(p).service).toBe("service-2QRHZV4L-default/kubernetes/tcp/https");
    expect(nftEndpointChain(p, "10.128.0.16", 6443)).toBe(
      "endpoint-573J25N3-default/kubernetes/tcp/https__10.128.0.16/6443",
    );
    expect(nftEndpointChain(p, "fd00::1", 6443)).toMatch(
      /^endpoint-[A-Z2-7]{8}-default\/kubernetes\/tcp\/https__fd00..1\/6443$/,
    );
    expect(hashAndTruncate(`a/${"x".repeat(300)}`)).toHaveLength(240);
    expect(hashAndTruncate(`a/${"x".repeat(300)}`).endsWith("...")).toBe(true);
  });

  it("parseNftChainName() reads names back and checks their hash", () => {
    expect(parseNftChainName("endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80")).toEqual({
      kind: "endpoint",
      hash: "5OJB2KTY",
      port: { namespace: "ns1", name: "svc1", protocol: "tcp", portName: "p80" },
      service: "ns1/svc1",
      endpoint: "10.180.0.1:80",
      hashMatches: true,
    });
    expect(parseNftChainName("service-AAAAAAAA-ns1/svc1/tcp/p80")?.hashMatches).toBe(false);
    expect(parseNftChainName("services")).toBeUndefined();
    expect(parseNftChainName("mark-for-masquerade")).toBeUndefined();
  });

  it.skipIf(skipWithoutSharedFixtures("kube-proxy nftables chain names in shared dumps"))(
    "recomputes every service and endpoint chain name of upstream's test and of a real node",
    () => {
      const texts = [
        readFileSync(join(KUBE_PROXY_FIXTURES, UPSTREAM), "utf8"),
        readFileSync(REALWORLD, "utf8"),
      ];
      const names = new Set<string>();
      for (const t of texts)
        for (const m of t.matchAll(/\b((?:service|local|external|firewall|endpoint)-[A-Z2-7]{8}-[^\s,}]+)/g))
          names.add(m[1]!);
      expect(names.size).toBeGreaterThan(25);
      const wrong = [...names].filter((n) => parseNftChainName(n)?.hashMatches !== true);
      expect(wrong).toEqual([]);
    },
  );
});
