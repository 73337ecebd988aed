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
