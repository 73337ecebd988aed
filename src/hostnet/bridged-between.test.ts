/**
 * bridgedBetween() on a real captured lab node (testdata/hostnet/lab/healthy, node-a: cni0 a bridge
 * with ports veth1p0/veth1p1, flannel.1, eth0; br_netfilter on), with hand-written expectations
 * from br_netfilter (a bridged frame has the bridge as in and out device, and reaches iptables only
 * with net.bridge.bridge-nf-call-iptables = 1).
 */
import { describe, expect, it } from "vitest";
import { editJsonItems, labHostFiles } from "../testing/hostnet-fixtures.ts";
import { bridgedBetween } from "./bridged-between.ts";
import { parseHostEvidence } from "./host-evidence.ts";

const host = (edits: Parameters<typeof labHostFiles>[2] = {}) =>
  parseHostEvidence(labHostFiles("healthy", "node-a", edits), { node: "node-a", dir: "nodes/node-a" });

describe("bridgedBetween()", () => {
  it("in and out on cni0 (a bridge with ports, br_netfilter on): bridged; routed otherwise", () => {
    const between = bridgedBetween(host());
    expect(between("cni0", "cni0")).toBe(true);
    expect(between("cni0", "flannel.1")).toBe(false);
    expect(between("flannel.1", "cni0")).toBe(false);
    // eth0 is no bridge: a packet routed back out of it is not bridged.
    expect(between("eth0", "eth0")).toBe(false);
  });

  it("br_netfilter off (bridge-nf-call-iptables = 0, or the key absent): not bridged", () => {
    const off = (v: string | undefined) =>
      host({
        "sysctl.txt": (t) =>
          t
            .split("\n")
            .filter((l) => !l.startsWith("net.bridge.bridge-nf-call-iptables"))
            .concat(v === undefined ? [] : [`net.bridge.bridge-nf-call-iptables = ${v}`])
            .join("\n"),
      });
    expect(bridgedBetween(off("0"))("cni0", "cni0")).toBe(false);
    expect(bridgedBetween(off(undefined))("cni0", "cni0")).toBe(false);
  });

  it("undefined when the files cannot tell: no sysctl.txt, no ip-link.json, no link kind, no ports", () => {
    expect(bridgedBetween(host({ "sysctl.txt": () => undefined }))("cni0", "cni0")).toBeUndefined();
    expect(bridgedBetween(host({ "ip-link.json": () => undefined }))("cni0", "cni0")).toBeUndefined();
    const noKind = editJsonItems(({ linkinfo: _, ...rest }) => rest);
    expect(bridgedBetween(host({ "ip-link.json": noKind }))("cni0", "cni0")).toBeUndefined();
    const noPorts = editJsonItems(({ master: _, ...rest }) => rest);
    expect(bridgedBetween(host({ "ip-link.json": noPorts }))("cni0", "cni0")).toBeUndefined();
    // Different devices need no file: a routed packet is never bridged.
    expect(bridgedBetween(host({ "ip-link.json": () => undefined }))("cni0", "eth0")).toBe(false);
  });
});
