/**
 * The tracer through an IPVS-mode node (issue 16): testdata/netpol/ipvs/healthy.* (kube-proxy's
 * iptables glue and ipsets as the real iptables-nft-save and ipset save printed them; the
 * `ipvsadm -Sn` written in ipvsadm's rule format from kube-proxy's pkg/proxy/ipvs/proxier.go, as
 * this kernel has no IPVS). Every expectation is hand-written from the kernel's IPVS (ip_vs_core.c:
 * IPVS after filter INPUT, after nat OUTPUT; ip_vs_rr.c skips weight 0; ip_vs_leave answers ICMP port
 * unreachable) and the files' lines. node1 is 192.168.1.10 with pods 10.42.0.0/24 on cni0; node2's
 * pods 10.42.1.0/24 are behind flannel.1; the Service addresses are bound on kube-ipvs0.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIpsetSave } from "../ipset/parse-ipset-save.ts";
import { parseIpvsadm } from "../ipvs/parse-ipvsadm.ts";
import type { Packet, Trace, TraceResult } from "../model/trace.ts";
import { checkTraceSteps } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { ruleStepsOf } from "./rule-steps.ts";
import { type TraceOptions, tracePacket } from "./trace-packet.ts";

const DIR = resolve(process.cwd(), "testdata/netpol/ipvs");
const read = (f: string) => readFileSync(resolve(DIR, f), "utf8");
const IPVSADM = "nodes/node1/ipvsadm.txt";
const dump = parseDump(read("healthy.iptables-save.txt"));
const ipsets = parseIpsetSave(read("healthy.ipset-save.txt"), { file: "nodes/node1/ipset-save.txt" });
const table = parseIpvsadm(read("healthy.ipvsadm.txt"), { file: IPVSADM });
const VIPS = ["10.43.0.1", "10.43.0.10", "10.43.12.7", "10.43.20.5", "10.43.30.1"];
const LOCAL = ["192.168.1.10", ...VIPS];
const routeInterface = (ip: string) =>
  ip.startsWith("10.42.0.") ? "cni0" : ip.startsWith("10.42.1.") ? "flannel.1" : "eth0";

function trace(
  packet: Packet,
  from: { ingress: "pod" | "host"; inInterface?: string },
  options: TraceOptions = { ipvs: table },
  localIps: readonly string[] = LOCAL,
): TraceResult {
  const r = tracePacket(
    dump,
    {
      packet,
      from: from.ingress,
      localIps,
      node: "node1",
      ...(from.inInterface === undefined ? {} : { inInterface: from.inInterface }),
    },
    { file: "nodes/node1/iptables-save.txt", ipsets, routeInterface, ...options },
  );
  for (const t of r.traces) checkTraceSteps(t);
  return r;
}

const POD = { ingress: "pod", inInterface: "cni0" } as const;
const tcp = (srcIp: string, dstIp: string, dstPort: number): Packet => ({
  protocol: "tcp",
  srcIp,
  dstIp,
  dstPort,
});

/** `p dst disposition(out)` per path, and the IPVS step's line. */
function summary(t: Trace): string {
  const d = t.disposition;
  const dst = t.headers.dst.kind === "exact" ? `${t.headers.dst.ip}:${t.headers.dst.port}` : "?";
  const ipvs = ruleStepsOf(t).find((s) => s.backend === "ipvs");
  const end = d.kind === "forwarded" ? `forwarded ${d.outInterface}` : d.kind;
  return `${t.probability} ${dst} ${end}${ipvs === undefined ? "" : ` [ipvsadm:${ipvs.evidence.line}]`}`;
}

describe("tracePacket() through IPVS (kube-proxy's IPVS mode)", () => {
  it("schedules a pod's ClusterIP connection to every real server of weight > 0, equal shares (rr)", () => {
    const r = trace(tcp("10.42.0.30", "10.43.12.7", 80), POD);
    // 10.42.0.8 (line 9) has weight 0: graceful termination, never chosen.
    expect(r.traces.map(summary)).toEqual([
      "0.5 10.42.0.7:8080 forwarded cni0 [ipvsadm:8]",
      "0.5 10.42.1.9:8080 forwarded flannel.1 [ipvsadm:10]",
    ]);
    const step = ruleStepsOf(r.traces[1]!).find((s) => s.backend === "ipvs")!;
    expect(step).toMatchObject({
      kind: "transform",
      table: "ipvs",
      chain: "tcp 10.43.12.7:80",
      rule: "-a -t 10.43.12.7:80 -r 10.42.1.9:8080 -m -w 1",
      evidence: { file: IPVSADM, line: 10 },
      action: { kind: "ipvs", to: "10.42.1.9:8080", scheduler: "rr", weight: 1, choices: 2 },
      probability: 0.5,
      before: { dst: { kind: "exact", ip: "10.43.12.7", port: 80 } },
      after: { dst: { kind: "exact", ip: "10.42.1.9", port: 8080 } },
    });
    expect(readFileSync(resolve(DIR, "healthy.ipvsadm.txt"), "utf8").split("\n")[9]).toBe(step.rule);
    // The iptables glue before IPVS: nat KUBE-SERVICES accepts the ClusterIP (no DNAT in iptables),
    // filter KUBE-IPVS-FILTER returns for it; a pod source is not masqueraded.
    const lines = ruleStepsOf(r.traces[0]!).map((s) => `${s.table} ${s.chain} ${s.evidence.line}`);
    expect(lines).toContain("nat KUBE-SERVICES 52");
    expect(lines).toContain("filter KUBE-IPVS-FILTER 21");
    expect(r.traces.every((t) => t.headers.src.kind === "exact")).toBe(true);
  });

  it("one real server: one path, certain", () => {
    expect(trace(tcp("10.42.0.30", "10.43.30.1", 80), POD).traces.map(summary)).toEqual([
      "1 10.42.1.12:80 forwarded flannel.1 [ipvsadm:14]",
    ]);
  });

  it("a NodePort from outside: marked for masquerade by the glue, scheduled, masqueraded on the way out", () => {
    const r = trace(tcp("203.0.113.7", "192.168.1.10", 30080), { ingress: "pod", inInterface: "eth0" });
    expect(r.traces.map(summary)).toEqual([
      "0.5 10.42.0.7:8080 forwarded cni0 [ipvsadm:16]",
      "0.5 10.42.1.9:8080 forwarded flannel.1 [ipvsadm:17]",
    ]);
    expect(r.traces.map((t) => t.headers.src.kind)).toEqual(["out-interface", "out-interface"]);
  });

  it("a virtual server without a real server (Local policy, endpoint on another node) answers ECONNREFUSED", () => {
    const [t] = trace(tcp("203.0.113.7", "192.168.1.10", 30081), {
      ingress: "pod",
      inInterface: "eth0",
    }).traces;
    expect(t!.disposition).toMatchObject({
      kind: "rejected",
      rejectWith: "icmp-port-unreachable",
      clientError: "ECONNREFUSED",
      by: { backend: "ipvs", chain: "tcp 192.168.1.10:30081", evidence: { file: IPVSADM, line: 18 } },
    });
  });

  it("a ClusterIP port with no virtual server is rejected by KUBE-IPVS-FILTER before IPVS", () => {
    const [t] = trace(tcp("10.42.0.30", "10.43.12.7", 81), POD).traces;
    expect(t!.disposition).toMatchObject({
      kind: "rejected",
      clientError: "ECONNREFUSED",
      by: { backend: "iptables", chain: "KUBE-IPVS-FILTER", evidence: { line: 24 } },
    });
  });

  it("a hostNetwork process: IPVS after nat OUTPUT, then OUTPUT again to the real server, masqueraded", () => {
    const udp: Packet = { protocol: "udp", srcIp: "192.168.1.10", dstIp: "10.43.0.10", dstPort: 53 };
    const r = trace(udp, { ingress: "host" });
    expect(r.traces.map(summary)).toEqual(["1 10.42.0.4:53 forwarded cni0 [ipvsadm:20]"]);
    expect(r.traces[0]!.headers.src.kind).toBe("out-interface");
  });

  it("without the IPVS table the node's IPVS is not seen; a virtual address not bound is undecided", () => {
    expect(trace(tcp("10.42.0.30", "10.43.12.7", 80), POD, {}).traces.map(summary)).toEqual([
      "1 10.43.12.7:80 delivered-locally",
    ]);
    const [t] = trace(tcp("10.42.0.30", "10.43.12.7", 80), POD, { ipvs: table }, ["192.168.1.10"]).traces;
    expect(t!.disposition).toMatchObject({ kind: "undecided", needs: "node-addresses" });
    if (t!.disposition.kind === "undecided") expect(t!.disposition.reason).toMatch(/kube-ipvs0/);
  });

  it("shares: by weight for wrr, equal for rr (which only skips weight 0); fwmark services by the mark", () => {
    const own = (text: string) => ({ ipvs: parseIpvsadm(text, { file: IPVSADM }) });
    const wrr =
      "-A -t 10.43.12.7:80 -s wrr\n-a -t 10.43.12.7:80 -r 10.42.0.7:8080 -m -w 3\n-a -t 10.43.12.7:80 -r 10.42.1.9:8080 -m -w 1\n";
    expect(
      trace(tcp("10.42.0.30", "10.43.12.7", 80), POD, own(wrr)).traces.map((t) => t.probability),
    ).toEqual([0.75, 0.25]);
    const rr = wrr.replace("wrr", "rr");
    expect(trace(tcp("10.42.0.30", "10.43.12.7", 80), POD, own(rr)).traces.map((t) => t.probability)).toEqual(
      [0.5, 0.5],
    );
    const fw = "-A -f 16384 -s rr\n-a -f 16384 -r 10.42.1.12:80 -m -w 1\n";
    // The glue's KUBE-MARK-MASQ gives a NodePort's packet mark 0x4000 = 16384 before IPVS.
    const r = trace(
      tcp("203.0.113.7", "192.168.1.10", 30080),
      { ingress: "pod", inInterface: "eth0" },
      own(fw),
    );
    expect(r.traces.map(summary)).toEqual(["1 10.42.1.12:80 forwarded flannel.1 [ipvsadm:2]"]);
  });
});
