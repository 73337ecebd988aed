import { describe, expect, it } from "vitest";
import type { Node } from "../model/cluster.ts";
import { flannelNode, nodeExtrasFromJson, overlayAddress } from "./flannel-node.ts";

const node = (annotations: Record<string, string>, podCIDR?: string): Node => ({
  metadata: { name: "n1", annotations },
  addresses: [{ type: "InternalIP", address: "192.168.1.5" }],
  ...(podCIDR === undefined ? {} : { podCIDR }),
  source: { file: "cluster/nodes.json", line: 12 },
});

describe("flannelNode()", () => {
  it("reads flannel's lease annotations (as k3s writes them)", () => {
    const f = flannelNode(
      node(
        {
          "flannel.alpha.coreos.com/backend-data": '{"VNI":1,"VtepMAC":"CA:49:66:86:6A:44"}',
          "flannel.alpha.coreos.com/backend-type": "vxlan",
          "flannel.alpha.coreos.com/public-ip": "192.168.1.5",
        },
        "10.42.1.0/24",
      ),
      { file: "cluster/nodes.json", extras: { kernelVersion: "5.15.0-91-generic" } },
    );
    expect(f).toMatchObject({
      name: "n1",
      podCidr: "10.42.1.0/24",
      publicIp: "192.168.1.5",
      backendType: "vxlan",
      vtepMac: "ca:49:66:86:6a:44",
      vni: 1,
      internalIp: "192.168.1.5",
      kernelVersion: "5.15.0-91-generic",
      problems: [],
      evidence: { file: "cluster/nodes.json", line: 12 },
    });
    expect(overlayAddress(f)).toBe("10.42.1.0");
  });

  it("takes the IPv4 entry of podCIDRs on dual-stack nodes, and reports unreadable backend-data", () => {
    const f = flannelNode(node({ "flannel.alpha.coreos.com/backend-data": "null-ish{" }, "fd00::/64"), {
      file: "x",
      extras: { podCIDRs: ["fd00:10:42::/64", "10.42.7.0/24"] },
    });
    expect(f.podCidr).toBe("10.42.7.0/24");
    expect(f.problems).toEqual(["flannel.alpha.coreos.com/backend-data is not JSON: null-ish{"]);
    expect(f.vtepMac).toBeUndefined();
  });
});

describe("nodeExtrasFromJson()", () => {
  it("reads podCIDRs and the kernel version that the Node model does not carry", () => {
    const m = nodeExtrasFromJson(
      JSON.stringify({
        items: [
          {
            metadata: { name: "a" },
            spec: { podCIDRs: ["10.42.0.0/24"] },
            status: { nodeInfo: { kernelVersion: "4.19.0" } },
          },
          { metadata: {} },
        ],
      }),
    );
    expect([...m]).toEqual([["a", { podCIDRs: ["10.42.0.0/24"], kernelVersion: "4.19.0" }]]);
    expect(nodeExtrasFromJson("not json").size).toBe(0);
  });
});
