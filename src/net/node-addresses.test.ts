import { describe, expect, it } from "vitest";
import type { Node } from "../model/cluster.ts";
import { nodeAddresses } from "./node-addresses.ts";

const node = (addresses: Node["addresses"], podCIDR?: string): Node => ({
  metadata: { name: "n1" },
  addresses,
  ...(podCIDR === undefined ? {} : { podCIDR }),
});

describe("nodeAddresses()", () => {
  it("lists InternalIP, ExternalIP and the pod CIDR's bridge address, once each", () => {
    const n = node(
      [
        { type: "InternalIP", address: "10.0.20.5" },
        { type: "Hostname", address: "vm-20-5" },
        { type: "ExternalIP", address: "203.0.113.7" },
        { type: "InternalIP", address: "10.0.20.5" },
      ],
      "10.42.0.0/24",
    );
    expect(nodeAddresses(n)).toEqual([
      { address: "10.0.20.5", source: "InternalIP" },
      { address: "203.0.113.7", source: "ExternalIP" },
      { address: "10.42.0.1", source: "podCIDR gateway" },
    ]);
  });

  it("skips IPv6 addresses and a missing pod CIDR", () => {
    expect(nodeAddresses(node([{ type: "InternalIP", address: "fd00::5" }]))).toEqual([]);
  });
});
