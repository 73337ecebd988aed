import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDump } from "../parse/parse-dump.ts";
import { chains, nat, POD, trace } from "../testing/trace-test-helpers.ts";
import { buildTraceIndex, type TraceRequest, tracePacket } from "./trace-packet.ts";

describe("buildTraceIndex()", () => {
  /** A KUBE-SERVICES-like chain long enough to be indexed, with generic rules mixed in. */
  const bigDump = (extra: string[]) => {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) {
      lines.push(
        `-A KUBE-SERVICES -d 10.43.0.${i % 20}/32 -p tcp -m tcp --dport ${80 + (i % 3)} -j MARK --or-mark 0x${(i + 1).toString(16)}`,
      );
      if (i % 7 === 0)
        lines.push(`-A KUBE-SERVICES -p tcp -m tcp --dport ${80 + (i % 3)} -j MARK --xor-mark 0x100`);
    }
    for (let i = 0; i < 30; i++)
      lines.push(
        `-A KUBE-NODEPORTS -p tcp -m tcp --dport ${30000 + i} -j MARK --or-mark 0x${(i + 1).toString(16)}0000`,
      );
    return nat(
      `${chains(["KUBE-SERVICES", "KUBE-NODEPORTS"])}-A PREROUTING -j KUBE-SERVICES\n-A PREROUTING -j KUBE-NODEPORTS\n${[...lines, ...extra].join("\n")}\n`,
    );
  };

  it("gives exactly the linear scan's result", () => {
    const ruleset = parseDump(
      bigDump([
        "-A KUBE-SERVICES ! -d 10.43.0.3/32 -j MARK --or-mark 0x80000000",
        '-A KUBE-SERVICES -m comment --comment "x -d 10.43.0.5" -j MARK --or-mark 0x40000000',
        '-A KUBE-NODEPORTS -p tcp -m comment --comment "fake --dport 30005 " -j MARK --or-mark 0x1000000',
        "-A KUBE-NODEPORTS -p tcp -m tcp ! --dport 30007 -j MARK --or-mark 0x2000000",
        "-A KUBE-NODEPORTS -p tcp -m multiport --dports 30001,30002 -j MARK --or-mark 0x4000000",
      ]),
    );
    const indexed = buildTraceIndex(ruleset);
    const linear = buildTraceIndex(ruleset, { dispatch: false });
    expect(indexed.indexedChains).toBe(2);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 22 }),
        fc.integer({ min: 79, max: 83 }),
        fc.integer({ min: 29998, max: 30032 }),
        (host, port, np) => {
          for (const dstPort of [port, np]) {
            const request: TraceRequest = {
              packet: { ...POD, dstIp: `10.43.0.${host}`, dstPort },
              from: "pod",
              localIps: ["192.168.1.10"],
            };
            const a = tracePacket(ruleset, request, { index: indexed });
            const b = tracePacket(ruleset, request, { index: linear });
            expect(a).toEqual(b);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("passes over a run of copies that does not match and walks copies that match one by one", () => {
    const copies = (n: number, rule: string) => Array.from({ length: n }, () => `-A LEAK ${rule}`);
    const ruleset = parseDump(
      nat(
        `${chains(["LEAK"])}-A PREROUTING -j LEAK\n${[
          ...copies(30, "-m mark --mark 0x0/0x1 -j MARK --or-mark 0x4"), // all match, each a step
          ...copies(30, "-m mark --mark 0x1/0x1 -j ACCEPT"), // none matches
          "-A LEAK -j MARK --or-mark 0x1",
          ...copies(30, "-m mark --mark 0x0/0x8 -j MARK --or-mark 0x8"), // the first matches, then none
          "-A LEAK -m mark --mark 0xd -j DNAT --to-destination 198.18.0.9:80",
        ].join("\n")}\n`,
      ),
    );
    const request: TraceRequest = { packet: { ...POD, dstIp: "10.43.0.1", dstPort: 80 }, from: "pod" };
    const indexed = tracePacket(ruleset, request, { index: buildTraceIndex(ruleset) });
    expect(indexed).toEqual(
      tracePacket(ruleset, request, { index: buildTraceIndex(ruleset, { dispatch: false }) }),
    );
    const steps = JSON.stringify(indexed.traces[0]);
    expect(steps.match(/--or-mark 0x4/g)).toHaveLength(30);
    expect(steps.match(/--or-mark 0x8/g)).toHaveLength(1);
    expect(steps).toContain("198.18.0.9");
  });

  it("refuses an index built for another ruleset", () => {
    const a = parseDump(nat(""));
    const b = parseDump(nat(""));
    expect(() => tracePacket(a, { packet: POD, from: "pod" }, { index: buildTraceIndex(b) })).toThrow(
      TypeError,
    );
  });

  it("rejects non-IPv4 packets with a TypeError", () => {
    expect(() => trace(nat(""), { dstIp: "fd00::1" })).toThrow(
      /Cannot trace destination "fd00::1": not an IPv4 address/,
    );
  });
});
