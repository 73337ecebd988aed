/**
 * The multi-hop trace on bundles captured from the overlay lab (testdata/hostnet/lab, collected
 * with the real commands from real VXLAN namespaces; the kernel's outcome for each is in
 * src/testing/overlay-lab-cases*.ts). Expectations are written by hand from the lab's layout:
 * a1 198.18.1.10, a2 198.18.1.11 on node-a; b1 198.18.2.10 on node-b; c1 198.18.3.10 on node-c.
 */
import { rmSync } from "node:fs";
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readHostEvidence } from "../collect/read-host-evidence.ts";
import { checkTraceSteps, type Step, type TraceResult } from "../model/trace.ts";
import { labBundleDir } from "../testing/hostnet-fixtures.ts";
import { answerConnection } from "./connection-answer.ts";
import type { HostPathInput } from "./host-path-input.ts";
import { multiHopTrace } from "./multi-hop-trace.ts";

const inputs = new Map<string, HostPathInput>();
beforeAll(async () => {
  for (const name of ["healthy", "vtep-mac-changed", "asymmetric-rp-strict", "stale-conntrack-dns"])
    inputs.set(name, await readHostEvidence(labBundleDir(name)));
});

function trace(
  input: HostPathInput,
  from: string,
  to: { ip: string; port: number; proto?: "tcp" | "udp"; srcPort?: number },
): TraceResult {
  const c = input.pods.find((p) => p.pod.endsWith(`/${from}`))!;
  const packet = {
    protocol: to.proto ?? "tcp",
    srcIp: c.ip,
    dstIp: to.ip,
    dstPort: to.port,
    ...(to.srcPort === undefined ? {} : { srcPort: to.srcPort }),
  } as const;
  const r = multiHopTrace(answerConnection(input, { node: c.node, ingress: "pod", packet }), input);
  for (const t of r.traces) checkTraceSteps(t);
  return r;
}

const kinds = (steps: readonly Step[]) => steps.map((s) => s.kind);

describe("multiHopTrace()", () => {
  it("multiHopTrace() a healthy cross-node path has one hop per node, encapsulation then decapsulation", () => {
    const r = trace(inputs.get("healthy")!, "a1", { ip: "198.18.2.10", port: 8080 });
    const t = r.traces[0]!;
    expect(t.hops.map((h) => h.node)).toEqual(["node-a", "node-b"]);
    expect(kinds(t.hops[0]!.steps)).toEqual(["routing", "neighbor", "overlay"]);
    expect(kinds(t.hops[1]!.steps)).toEqual(["overlay", "routing", "neighbor", "deliver"]);
    const [enc, dec] = [t.hops[0]!.steps[2]!, t.hops[1]!.steps[0]!];
    expect(enc).toMatchObject({ kind: "overlay", device: "flannel.1", toNode: "node-b" });
    expect(dec).toMatchObject({ kind: "overlay", direction: "decapsulate", device: "flannel.1" });
    expect(t.hops[0]!.steps[0]).toMatchObject({
      decision: "forward",
      outInterface: "flannel.1",
      evidence: { file: "nodes/node-a/ip-route.json" },
    });
    expect(t.disposition).toEqual({ kind: "delivered", pod: "default/b1", device: "cni0" });
  });

  it("multiHopTrace() a pod on the same bridge is one hop, delivered", () => {
    const t = trace(inputs.get("healthy")!, "a1", { ip: "198.18.1.11", port: 8080 }).traces[0]!;
    expect(t.hops.map((h) => h.node)).toEqual(["node-a"]);
    expect(t.disposition).toMatchObject({ kind: "delivered", pod: "default/a2" });
  });

  it("multiHopTrace() a changed VTEP MAC drops at node-b's decapsulation, with node-b's evidence", () => {
    const t = trace(inputs.get("vtep-mac-changed")!, "a1", { ip: "198.18.2.10", port: 8080 }).traces[0]!;
    expect(t.hops.map((h) => h.node)).toEqual(["node-a", "node-b"]);
    expect(t.disposition.kind).toBe("dropped");
    const by = t.disposition.kind === "dropped" ? t.disposition.by : undefined;
    expect(by).toMatchObject({ kind: "overlay", direction: "decapsulate" });
    expect(by?.evidence?.file).toMatch(/^nodes\/node-b\//);
  });

  it("multiHopTrace() strict rp_filter on the asymmetric receiver drops by node-b's sysctl", () => {
    const t = trace(inputs.get("asymmetric-rp-strict")!, "a1", { ip: "198.18.2.10", port: 8080 }).traces[0]!;
    expect(t.hops.map((h) => h.node)).toEqual(["node-a", "node-b"]);
    const by = t.disposition.kind === "dropped" ? t.disposition.by : undefined;
    expect(by).toMatchObject({ kind: "routing", decision: "drop" });
    expect(by?.evidence?.file).toBe("nodes/node-b/sysctl.txt");
  });

  it("multiHopTrace() a stale conntrack entry sends the client's port to the dead DNS pod on node-c", () => {
    const input = inputs.get("stale-conntrack-dns")!;
    const stale = trace(input, "a1", { ip: "198.19.0.10", port: 53, proto: "udp", srcPort: 40053 })
      .traces[0]!;
    expect(stale.hops[0]!.steps[0]).toMatchObject({
      kind: "conntrack",
      evidence: { file: "nodes/node-a/conntrack.txt" },
    });
    expect(stale.hops.map((h) => h.node)).toEqual(["node-a", "node-c"]);
    // The kernel: the client times out (overlay-lab-cases-node.ts stale-conntrack-dns).
    expect(stale.disposition).toEqual({ kind: "neighbor-unreachable", ip: "198.18.3.10", device: "cni0" });
  });

  it("multiHopTrace() a node without host files is undecided with what it needs, never delivered", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nd-multihop-"));
    try {
      await cp(labBundleDir("healthy"), dir, { recursive: true });
      rmSync(join(dir, "nodes", "node-b", "ip-route.json"));
      const input = await readHostEvidence(dir);
      const t = trace(input, "a1", { ip: "198.18.2.10", port: 8080 }).traces[0]!;
      expect(t.disposition).toMatchObject({ kind: "undecided", needs: "routing-table" });
      expect(t.hops.map((h) => h.node)).toEqual(["node-a", "node-b"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
