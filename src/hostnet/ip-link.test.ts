import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { parseIpAddr } from "./ip-addr.ts";
import { linkIsUp, parseIpLink } from "./ip-link.ts";

// The lab creates flannel.1 as `ip link add flannel.1 type vxlan id 1 local 198.19.255.11 dev eth0
// dstport 8472 nolearning` on an eth0 with MTU 1500 (src/testing/overlay-lab.ts).
describe("parseIpLink()", () => {
  const { links, warnings } = parseIpLink(fixtureText("lab/healthy/nodes/node-a/ip-link.json"), {
    file: "l",
  });
  const by = new Map(links.map((l) => [l.ifname, l]));

  it("reads the VXLAN device's VNI, local address, underlay device, port and learning", () => {
    expect(warnings).toEqual([]);
    expect(by.get("flannel.1")).toMatchObject({
      kind: "vxlan",
      mtu: 1450,
      vxlan: { id: 1, local: "198.19.255.11", link: "eth0", port: 8472, learning: false },
    });
    expect(linkIsUp(by.get("flannel.1")!)).toBe(true);
    expect(by.get("flannel.1")?.address).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });

  it("reads bridges, bridge ports and veths", () => {
    expect(by.get("cni0")).toMatchObject({ kind: "bridge", mtu: 1450 });
    const ports = links.filter((l) => l.master === "cni0");
    expect(ports.length).toBe(2);
    expect(ports.every((p) => p.kind === "veth")).toBe(true);
    expect(by.get("eth0")).toMatchObject({ kind: "veth", mtu: 1500 });
  });
});

describe("parseIpAddr()", () => {
  it("reads every interface's addresses", () => {
    const { interfaces } = parseIpAddr(fixtureText("lab/healthy/nodes/node-a/ip-addr.json"), { file: "a" });
    const v4 = (n: string) =>
      interfaces
        .find((i) => i.ifname === n)
        ?.addresses.filter((a) => a.family === "inet")
        .map((a) => `${a.local}/${a.prefixlen}`);
    expect(v4("eth0")).toEqual(["198.19.255.11/24"]);
    expect(v4("flannel.1")).toEqual(["198.18.1.0/32"]);
    expect(v4("cni0")).toEqual(["198.18.1.1/24"]);
    expect(v4("lo")).toEqual(["127.0.0.1/8"]);
  });
});
