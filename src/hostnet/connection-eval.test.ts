import { beforeAll, describe, expect, it } from "vitest";
import { readHostEvidence } from "../collect/read-host-evidence.ts";
import { editJsonItems, labBundleDir, labHostFiles } from "../testing/hostnet-fixtures.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { evaluateConnection } from "./connection-eval.ts";
import type { PathContext } from "./hop-context.ts";
import { type HostEvidence, parseHostEvidence } from "./host-evidence.ts";
import { evaluatePath } from "./path-eval.ts";
import type { FilterQuery } from "./path-types.ts";

// The lab's layout (src/testing/overlay-lab.ts): a1 198.18.1.10 and a2 198.18.1.11 on node-a,
// b1 198.18.2.10 on node-b, c1 198.18.3.10 on node-c; VXLAN between 198.19.255.11/12/13.
const bundles = new Map<string, HostPathInput>();
beforeAll(async () => {
  for (const name of ["healthy", "vtep-mac-changed", "asymmetric-rp-strict"]) {
    bundles.set(name, await readHostEvidence(labBundleDir(name)));
  }
});

type Edits = Readonly<Record<string, Readonly<Record<string, (text: string) => string | undefined>>>>;

function ctx(name: string, edits: Edits = {}): PathContext {
  const b = bundles.get(name)!;
  const hosts = new Map<string, HostEvidence>();
  for (const node of ["node-a", "node-b", "node-c"]) {
    hosts.set(node, parseHostEvidence(labHostFiles(name, node, edits[node]), { node, dir: `nodes/${node}` }));
  }
  return { hosts, pods: b.pods };
}

const tcp = (srcIp: string, dstIp: string) => ({
  protocol: "tcp" as const,
  srcIp,
  srcPort: 40000,
  dstIp,
  dstPort: 8080,
});
const fromA = { origin: { node: "node-a", ingress: "pod" as const } };

describe("evaluatePath()", () => {
  it("follows a pod packet over the overlay: route, neighbour, FDB, VXLAN to node-b, decapsulation, delivery", () => {
    const r = evaluatePath(tcp("198.18.1.10", "198.18.2.10"), { ...ctx("healthy"), ...fromA });
    expect(r.outcome).toBe("delivered");
    expect(r.hops.map((h) => [h.node, h.disposition, h.next])).toEqual([
      ["node-a", "forwarded-overlay", "node-b"],
      ["node-b", "delivered", undefined],
    ]);
    expect(r.hops[0]?.steps.map((s) => s.kind)).toEqual(["routing", "neighbor", "overlay"]);
    expect(r.hops[1]?.steps.map((s) => s.kind)).toEqual(["overlay", "routing", "neighbor", "deliver"]);
    const enc = r.hops[0]!.steps[2]!;
    expect(enc.kind === "overlay" && enc.outer).toEqual({
      protocol: "udp",
      srcIp: "198.19.255.11",
      srcPort: 40000,
      dstIp: "198.19.255.12",
      dstPort: 8472,
    });
    expect(r.hops[0]!.steps[0]!.evidence.map((e) => e.file)).toEqual([
      "nodes/node-a/ip-rule.json",
      "nodes/node-a/ip-route.json",
    ]);
    const deliver = r.hops[1]!.steps[3]!;
    expect(deliver.kind === "deliver" && deliver.pod).toBe("default/b1");
  });

  it("bridges two pods of one node without routing", () => {
    const r = evaluatePath(tcp("198.18.1.10", "198.18.1.11"), { ...ctx("healthy"), ...fromA });
    expect(r.hops.map((h) => [h.node, h.disposition, h.inInterface, h.outInterface])).toEqual([
      ["node-a", "delivered", "cni0", "cni0"],
    ]);
  });

  it("drops at node-b a frame for node-b's old VTEP MAC", () => {
    const r = evaluatePath(tcp("198.18.1.10", "198.18.2.10"), { ...ctx("vtep-mac-changed"), ...fromA });
    expect(r).toMatchObject({ outcome: "timeout" });
    expect(r.hops.map((h) => [h.node, h.disposition])).toEqual([
      ["node-a", "forwarded-overlay"],
      ["node-b", "dropped"],
    ]);
    expect(r.reason).toMatch(/the frame is for MAC .*, but flannel\.1 on node node-b has /);
  });

  it("drops at node-b what strict rp_filter refuses on an asymmetric path", () => {
    const r = evaluatePath(tcp("198.18.1.10", "198.18.2.10"), { ...ctx("asymmetric-rp-strict"), ...fromA });
    expect(r.outcome).toBe("timeout");
    const last = r.hops[1]!.steps.at(-1)!;
    expect(last.kind === "routing" && last.decision).toBe("rp-filter-drop");
    expect(last.evidence.some((e) => e.file === "nodes/node-b/sysctl.txt")).toBe(true);
  });

  it("answers no route with ENETUNREACH for TCP, and a timeout for UDP (the ICMP error a UDP socket ignores)", () => {
    const edits = {
      "node-a": { "ip-route.json": editJsonItems((r) => (r.dst === "198.18.2.0/24" ? undefined : r)) },
    };
    const t = evaluatePath(tcp("198.18.1.10", "198.18.2.10"), { ...ctx("healthy", edits), ...fromA });
    expect(t).toMatchObject({ outcome: "error", clientError: "ENETUNREACH" });
    const u = evaluatePath(
      { ...tcp("198.18.1.10", "198.18.2.10"), protocol: "udp" },
      { ...ctx("healthy", edits), ...fromA },
    );
    expect(u.outcome).toBe("timeout");
    // The node itself (hostNetwork) gets the error from connect() at once, whatever the protocol.
    const h = evaluatePath(
      { ...tcp("198.19.255.11", "198.18.2.10"), protocol: "udp" },
      { ...ctx("healthy", edits), origin: { node: "node-a", ingress: "host" } },
    );
    expect(h).toMatchObject({ outcome: "error", clientError: "ENETUNREACH" });
  });

  it("says EHOSTUNREACH when nothing answers ARP for a pod IP no pod has", () => {
    const r = evaluatePath(tcp("198.18.1.10", "198.18.2.99"), { ...ctx("healthy"), ...fromA });
    expect(r).toMatchObject({ outcome: "error", clientError: "EHOSTUNREACH" });
    expect(r.hops.map((h) => [h.node, h.disposition])).toEqual([
      ["node-a", "forwarded-overlay"],
      ["node-b", "neighbor-unreachable"],
    ]);
  });

  it("is undecided, naming the file, when evidence is missing", () => {
    const r = evaluatePath(tcp("198.18.1.10", "198.18.2.10"), {
      ...ctx("healthy", { "node-b": { "sysctl.txt": () => undefined } }),
      ...fromA,
    });
    expect(r).toMatchObject({ outcome: "unknown", missing: ["nodes/node-b/sysctl.txt"] });
    expect(r.hops.at(-1)?.node).toBe("node-b");
  });

  it("asks the iptables side at each hook and stops where it drops", () => {
    const asked: string[] = [];
    const filter = (q: FilterQuery) => {
      asked.push(
        `${q.node} ${q.hook} ${q.packet.dstIp}:${q.packet.dstPort} ${q.inInterface ?? "-"}>${q.outInterface ?? "-"}`,
      );
      return q.node === "node-b" && q.hook === "forward"
        ? {
            verdict: "drop" as const,
            action: "filter/FORWARD policy DROP",
            evidence: [{ file: "nodes/node-b/iptables-save.txt", line: 3, text: ":FORWARD DROP [0:0]" }],
          }
        : { verdict: "accept" as const, action: "ACCEPT", evidence: [] };
    };
    const r = evaluatePath(tcp("198.18.1.10", "198.18.2.10"), { ...ctx("healthy"), filter, ...fromA });
    expect(asked).toEqual([
      "node-a forward 198.18.2.10:8080 cni0>flannel.1",
      "node-a output 198.19.255.12:8472 ->eth0",
      "node-b input 198.19.255.12:8472 eth0>-",
      "node-b forward 198.18.2.10:8080 flannel.1>cni0",
    ]);
    expect(r).toMatchObject({
      outcome: "timeout",
      reason: "dropped by filter/FORWARD policy DROP on node node-b",
    });
  });
});

describe("evaluateConnection()", () => {
  it("needs the reply to come back too", () => {
    const ok = evaluateConnection(tcp("198.18.1.10", "198.18.3.10"), { ...ctx("healthy"), ...fromA });
    expect(ok.outcome).toBe("delivered");
    expect(ok.reply?.hops.map((h) => h.node)).toEqual(["node-c", "node-a"]);
    // node-c lost its route back to node-a's pods: the request arrives, the reply does not.
    const edits = {
      "node-c": { "ip-route.json": editJsonItems((r) => (r.dst === "198.18.1.0/24" ? undefined : r)) },
    };
    const lost = evaluateConnection(tcp("198.18.1.10", "198.18.3.10"), {
      ...ctx("healthy", edits),
      ...fromA,
    });
    expect(lost).toMatchObject({
      outcome: "timeout",
      reason: expect.stringMatching(/^the reply is lost: node node-c has no route/),
    });
  });

  it("loses a DNATed connection whose reply is bridged past conntrack (no br_netfilter)", () => {
    const off = {
      "node-a": {
        "sysctl.txt": (t: string) => t.replace("bridge-nf-call-iptables = 1", "bridge-nf-call-iptables = 0"),
      },
    };
    const dnatFrom = { ip: "198.19.0.20", port: 80 };
    const c = evaluateConnection(tcp("198.18.1.10", "198.18.1.11"), {
      ...ctx("healthy", off),
      ...fromA,
      dnatFrom,
    });
    expect(c).toMatchObject({
      outcome: "timeout",
      evidence: [{ file: "nodes/node-a/sysctl.txt", text: "net.bridge.bridge-nf-call-iptables = 0" }],
    });
    expect(
      evaluateConnection(tcp("198.18.1.10", "198.18.1.11"), { ...ctx("healthy"), ...fromA, dnatFrom })
        .outcome,
    ).toBe("delivered");
  });
});
