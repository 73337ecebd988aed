/**
 * `-m physdev` against hand-written expectations from the kernel's xt_physdev.c (physdev_mt) and
 * br_netfilter (br_nf_forward_ip sets the out port only for a packet bridged between two ports of
 * one bridge, with the bridge as both its in and out device). The kernel oracle for bridged and
 * routed packets through kube-router's rules is the overlay lab (src/testing/overlay-lab.test.ts,
 * case kube-router-bridged).
 */
import { describe, expect, it } from "vitest";
import { parseDump } from "../parse/parse-dump.ts";
import { filter, outcome, POD, trace } from "../testing/trace-test-helpers.ts";
import { type TraceOptions, tracePacket } from "./trace-packet.ts";

/** The pod's packet in by `inIf` and out by `outIf`, traced with `options`. */
function traced(dump: string, inIf: string, outIf: string, options: TraceOptions): string[] {
  return tracePacket(
    parseDump(dump),
    { packet: POD, from: "pod", localIps: ["192.168.1.10"], inInterface: inIf, outInterface: outIf },
    options,
  ).traces.map(outcome);
}

const DROP_IF = (match: string) => filter(`-A FORWARD -m physdev ${match} -j DROP\n`);

describe("compilePhysdev() through tracePacket()", () => {
  it("a packet routed from one interface to another is never --physdev-is-bridged", () => {
    expect(trace(DROP_IF("--physdev-is-bridged")).traces.map(outcome)).toEqual(["forwarded"]);
    expect(trace(DROP_IF("! --physdev-is-bridged")).traces.map(outcome)).toEqual(["dropped"]);
    expect(trace(DROP_IF("--physdev-is-out")).traces.map(outcome)).toEqual(["forwarded"]);
    // A routed packet has no out port, so no --physdev-out NAME can match it.
    expect(trace(DROP_IF("--physdev-out veth1")).traces.map(outcome)).toEqual(["forwarded"]);
  });

  it("the in port of a routed packet depends on whether it came by a bridge port: undecided", () => {
    for (const m of ["--physdev-is-in", "! --physdev-is-in", "--physdev-in veth1", "! --physdev-out veth1"]) {
      const d = trace(DROP_IF(m)).traces[0]!.disposition;
      expect(d, m).toMatchObject({ kind: "undecided", needs: "bridge-crossing" });
    }
  });

  it("in and out on the same interface: the node's links decide (bridgedBetween), else undecided", () => {
    const same = { inInterface: "cni0", outInterface: "cni0" };
    expect(trace(DROP_IF("--physdev-is-bridged"), {}, same).traces[0]!.disposition).toMatchObject({
      kind: "undecided",
      needs: "bridge-crossing",
    });
  });

  it("bridged between two ports of cni0 (the links say so): is-bridged, is-in and is-out match", () => {
    const between = (i: string, o: string) => (i === "cni0" && o === "cni0" ? true : undefined);
    for (const [m, want] of [
      ["--physdev-is-bridged", "dropped"],
      ["! --physdev-is-bridged", "forwarded"],
      ["--physdev-is-in", "dropped"],
      ["--physdev-is-out", "dropped"],
      ["--physdev-is-in --physdev-is-out --physdev-is-bridged", "dropped"],
    ] as const)
      expect(traced(DROP_IF(m), "cni0", "cni0", { bridgedBetween: between }), m).toEqual([want]);
    expect(traced(DROP_IF("--physdev-in veth1"), "cni0", "cni0", { bridgedBetween: between })[0]).toMatch(
      /^undecided: .*port names/,
    );
  });

  it("in and out on one interface the links say is no bridge (or no br_netfilter): not bridged", () => {
    const between = () => false;
    expect(traced(DROP_IF("--physdev-is-bridged"), "eth0", "eth0", { bridgedBetween: between })).toEqual([
      "forwarded",
    ]);
  });

  it("the caller's word wins: bridged: false means no bridge at all (every option false)", () => {
    for (const [m, want] of [
      ["--physdev-is-bridged", "forwarded"],
      ["! --physdev-is-in", "dropped"],
      ["--physdev-in veth1", "forwarded"],
      ["! --physdev-out veth1", "dropped"],
    ] as const)
      expect(traced(DROP_IF(m), "cni0", "cni0", { bridged: false }), m).toEqual([want]);
    expect(traced(DROP_IF("--physdev-is-bridged"), "cni0", "eth0", { bridged: true })).toEqual(["dropped"]);
  });

  it("an unknown out interface leaves it undecided", () => {
    const d = trace(DROP_IF("--physdev-is-bridged"), {}, { outInterface: undefined }).traces[0]!.disposition;
    expect(d).toMatchObject({ kind: "undecided", needs: "bridge-crossing" });
  });
});
