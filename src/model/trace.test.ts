import { describe, expect, it } from "vitest";
import type { Flow, Headers } from "./flow.ts";
import { checkTraceSteps, type Step, type Trace, traceResult } from "./trace.ts";

const flow: Flow = { protocol: "tcp", srcIp: "10.42.0.5", dstIp: "10.43.0.10", dstPort: 80, ingress: "pod" };
const headers: Headers = {
  protocol: "tcp",
  src: { kind: "exact", ip: "10.42.0.5" },
  dst: { kind: "exact", ip: "10.43.0.10", port: 80 },
};
const rule = (line: number, action: Extract<Step, { kind: "filter" }>["action"]): Step => ({
  kind: "filter",
  backend: "iptables",
  table: "filter",
  chain: "FORWARD",
  evidence: { file: "dump", line },
  rule: `-A FORWARD -j X # ${line}`,
  action,
});
const DROP = rule(7, { kind: "drop" });
const forwarded = (p: number, steps: Step[] = []): Trace => ({
  probability: p,
  disposition: { kind: "forwarded" },
  headers,
  hops: [{ steps }],
});

describe("traceResult()", () => {
  it("builds a result whose probabilities sum to 1 (within float rounding of a 1/3 cascade)", () => {
    const third = 0.3333333333;
    const rest = (1 - third) / 2;
    const r = traceResult(flow, [forwarded(third), forwarded(rest), forwarded(rest)]);
    expect(r.traces).toHaveLength(3);
  });

  it.each([
    [[0.5, 0.4], /the probabilities sum to 0\.9, not 1/],
    [[0.5, 0.5, 0.1], /sum to 1\.1/],
    [[1, 0], /trace 2 has probability 0/],
    [[Number.NaN], /trace 1 has probability NaN/],
    [[1.5, -0.5], /trace 1 has probability 1\.5/],
  ])("throws a RangeError for probabilities %j", (ps, message) => {
    expect(() =>
      traceResult(
        flow,
        ps.map((p) => forwarded(p)),
      ),
    ).toThrow(RangeError);
    expect(() =>
      traceResult(
        flow,
        ps.map((p) => forwarded(p)),
      ),
    ).toThrow(message);
  });

  it("throws a TypeError without traces, without hops, or with an unknown disposition", () => {
    expect(() => traceResult(flow, [])).toThrow(new TypeError("Cannot build a trace result: no trace"));
    expect(() => traceResult(flow, [{ ...forwarded(1), hops: [] }])).toThrow(/trace 1 has no hop/);
    const odd = { ...forwarded(1), disposition: { kind: "forward" } } as unknown as Trace;
    expect(() => traceResult(flow, [odd])).toThrow(/trace 1 has disposition "forward"/);
  });

  it("throws a TypeError when the last step and the disposition disagree", () => {
    expect(() => traceResult(flow, [forwarded(1, [DROP])])).toThrow(
      /trace 1 ends dropped but its disposition is forwarded/,
    );
    const dropped: Trace = {
      ...forwarded(1, [rule(3, { kind: "accept" })]),
      disposition: { kind: "dropped", by: DROP as never },
    };
    expect(() => traceResult(flow, [dropped])).toThrow(
      /trace 1 is dropped but its last step does not say so/,
    );
    const ok: Trace = { ...forwarded(1, [DROP]), disposition: { kind: "dropped", by: DROP as never } };
    expect(traceResult(flow, [ok]).traces[0]).toBe(ok);
  });

  it("takes an undecided route or a neighbour nobody answers as the end of a path", () => {
    const route: Step = {
      kind: "routing",
      decision: "undecided",
      dst: headers.dst,
      basis: "none",
      reason: "no addresses",
    };
    expect(() => traceResult(flow, [forwarded(1, [route])])).toThrow(/ends undecided/);
    const arp: Step = { kind: "neighbor", ip: "10.42.1.9", state: "no-answer", reason: "no pod" };
    const unreachable: Trace = {
      ...forwarded(1, [arp]),
      disposition: { kind: "neighbor-unreachable", ip: "10.42.1.9", clientError: "EHOSTUNREACH" },
    };
    expect(traceResult(flow, [unreachable]).traces).toHaveLength(1);
  });
});

describe("checkTraceSteps()", () => {
  it("throws when a path goes on after a step that ends it", () => {
    expect(() => checkTraceSteps(forwarded(1, [DROP, rule(8, { kind: "accept" })]))).toThrow(
      /goes on after a step that ends it \(dropped\)/,
    );
    expect(() => checkTraceSteps(forwarded(1, [rule(3, { kind: "accept" }), DROP]))).not.toThrow();
  });
});
