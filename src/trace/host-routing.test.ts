/**
 * hostRouting() on the routing tables the real `ip -j route show table all` and `ip -j rule show`
 * print for a throw-away namespace with a pod bridge, an uplink, an overlay route, a default route
 * and a blackhole (198.18.0.0/15 only). The expectations are what the kernel's FIB says for each
 * address, written by hand from the routes added.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIpRoute } from "../hostnet/ip-route.ts";
import { parseIpRule } from "../hostnet/ip-rule.ts";
import { UNKNOWN_IF } from "../nft/nft-packet.ts";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { createIptablesNetns, type IptablesNetns } from "../testing/iptables-netns.ts";
import { type HostRoutes, hostRouting } from "./host-routing.ts";

const skip = skipBecause(netnsUnavailable(), "hostRouting() on real ip -j route / rule output");

describe.skipIf(skip)("hostRouting() on real routing tables", () => {
  let ns: IptablesNetns;
  let tables: HostRoutes;
  beforeAll(() => {
    ns = createIptablesNetns("hostroute");
    const ip = (...args: string[]) => ns.exec("ip", args);
    ip("link", "set", "lo", "up");
    for (const [dev, cidr] of [
      ["cni0", "198.18.0.1/24"],
      ["eth0", "198.19.10.11/24"],
      ["flannel.1", "198.18.0.0/32"],
    ] as const) {
      ip("link", "add", dev, "type", "bridge");
      ip("addr", "add", cidr, "dev", dev);
      ip("link", "set", dev, "up");
    }
    ip("route", "add", "198.18.1.0/24", "via", "198.18.1.0", "dev", "flannel.1", "onlink");
    ip("route", "add", "default", "via", "198.19.10.1", "dev", "eth0");
    ip("route", "add", "blackhole", "198.18.9.0/24");
    tables = {
      routes: parseIpRoute(ns.exec("ip", ["-j", "route", "show", "table", "all"]), { file: "ip-route.json" })
        .routes,
      rules: parseIpRule(ns.exec("ip", ["-j", "rule", "show"]), { file: "ip-rule.json" }).rules,
    };
  });
  afterAll(() => ns?.destroy());

  it("takes the node's addresses from its local routes", () => {
    const r = hostRouting(tables);
    expect([...r.localIps].sort()).toEqual(["127.0.0.1", "198.18.0.0", "198.18.0.1", "198.19.10.11"]);
  });

  it.each([
    ["198.18.0.7", "cni0"],
    ["198.18.1.23", "flannel.1"],
    ["198.19.10.50", "eth0"],
    ["198.18.200.1", "eth0"],
    ["198.18.0.1", "lo"],
    ["198.18.9.4", undefined],
  ])("routes %s out of %s", (dst, dev) => {
    expect(hostRouting(tables, { inInterface: "cni0" }).routeInterface(dst)).toBe(dev);
  });

  it("says unknown, not a device, when a policy rule it does not model matches", () => {
    ns.exec("ip", ["rule", "add", "priority", "100", "ipproto", "tcp", "table", "main"]);
    const rules = parseIpRule(ns.exec("ip", ["-j", "rule", "show"]), { file: "ip-rule.json" }).rules;
    expect(hostRouting({ ...tables, rules }).routeInterface("198.18.0.7")).toBe(UNKNOWN_IF);
  });
});
