import { describe, expect, it } from "vitest";
import type { Headers, Trace } from "../../model/trace.ts";
import { incidentInput } from "../../testing/sample-report-input.ts";
import { MAX_BRANCHES, pathModel } from "./path-model.ts";

describe("pathModel()", () => {
  it("walks client, name resolution, Service, node and every hop, and marks the stale endpoint as the broken link", () => {
    const m = pathModel(incidentInput())!;
    expect(m.spine.map((b) => b.kind)).toEqual(["client", "dns", "service", "node", ...Array(6).fill("hop")]);
    // The two FORWARD steps in a row share one box.
    expect(m.spine.find((b) => b.title === "filter FORWARD")?.sub).toBe(
      "lines 179540, 179470 \u00b7 policy ACCEPT",
    );
    expect(m.spine.slice(0, 4).map((b) => b.status)).toEqual(["neutral", "ok", "ok", "broken"]);
    expect(m.spine.filter((b) => b.brokenLink)).toEqual([]);
    const [endpoint] = m.branches.map((b) => b[b.length - 1]!);
    expect(endpoint).toMatchObject({
      title: "10.42.1.17:8848",
      sub: "p=1.00 \u00b7 neighbor-unreachable \u00b7 EHOSTUNREACH",
      brokenLink: true,
    });
    expect(endpoint!.findings.map((f) => f.code)).toEqual(["endpoint-stale"]);
    expect(endpoint!.steps.map((s) => s.check)).toEqual(["node-dataplane"]);
    const dnat = m.spine.find((b) => b.title.startsWith("nat KUBE-SEP-"))!;
    expect(dnat.status).toBe("cited");
    expect(m.spine[3]!.findings.map((f) => f.code)).toEqual([
      "rules-duplicated",
      "rules-outlier",
      "iptables-known-bug",
    ]);
    expect(m.spine[0]!.findings.map((f) => f.code)).toEqual(["config-pod-ip"]);
  });

  it("branches after the shared hops, one endpoint per path with its probability", () => {
    const input = incidentInput();
    const base = input.trace!.traces[0]!;
    const steps = base.hops[0]!.steps;
    const split = (ip: string, p: number, line: number): Trace => {
      const after: Headers = { ...base.headers, dst: { kind: "exact", ip, port: 8848 } };
      return {
        probability: p,
        disposition: { kind: "forwarded" },
        headers: after,
        hops: [
          {
            steps: [
              ...steps.slice(0, 3),
              {
                kind: "transform",
                backend: "iptables",
                table: "nat",
                chain: `KUBE-SEP-${line}`,
                evidence: { file: "nodes/prod-agent1/iptables-save.txt", line },
                rule: `-A KUBE-SEP-${line} -j DNAT --to-destination ${ip}:8848`,
                action: { kind: "dnat", to: `${ip}:8848` },
                before: base.headers,
                after,
              },
            ],
          },
        ],
      };
    };
    // The stale endpoint's DNAT is the rule the endpoint-stale finding cites (line 172389).
    const traces = [split("10.42.2.31", 0.5, 900), split("10.42.1.17", 0.5, 172_389)];
    const m = pathModel({ ...input, trace: { ...input.trace!, traces } })!;
    expect(m.spine.filter((b) => b.kind === "hop")).toHaveLength(3);
    expect(m.branches.map((b) => b.map((x) => x.title))).toEqual([
      ["nat KUBE-SEP-900", "10.42.2.31:8848"],
      ["nat KUBE-SEP-172389", "10.42.1.17:8848"],
    ]);
    expect(m.branches.map((b) => b[1]!.brokenLink)).toEqual([false, true]);
    expect(m.branches[0]![1]!.sub).toMatch(/^p=0\.50/);
  });
});

describe("pathModel(): many paths and other broken links", () => {
  it(`draws at most ${MAX_BRANCHES} endpoints and sums the rest in one box`, () => {
    const input = incidentInput();
    const base = input.trace!.traces[0]!;
    const traces = Array.from({ length: 20 }, (_, i) => ({
      ...base,
      probability: 0.05,
      headers: { ...base.headers, dst: { kind: "exact" as const, ip: `10.42.3.${i}`, port: 8848 } },
    }));
    const m = pathModel({ ...input, trace: { ...input.trace!, traces } })!;
    expect(m.branches).toHaveLength(MAX_BRANCHES + 1);
    expect(m.branches[MAX_BRANCHES]![0]).toMatchObject({
      title: "12 more endpoints",
      sub: "p=0.60 together",
    });
  });

  it("marks name resolution as the broken link when brokenAt is dns", () => {
    const input = incidentInput();
    const steps = [
      {
        check: "dns" as const,
        status: "broken" as const,
        ok: false,
        detail: "no Service eopx-registr in eopx",
      },
    ];
    const m = pathModel({ ...input, brokenAt: "dns", steps, findings: [], trace: undefined as never })!;
    expect(m.spine.filter((b) => b.brokenLink).map((b) => b.kind)).toEqual(["dns"]);
  });
});
