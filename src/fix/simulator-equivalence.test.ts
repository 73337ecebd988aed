/**
 * Cheap, wide equivalence check with the project's packet simulator (src/trace/trace-packet.ts): on
 * realistic dumps (the demo's leaked node, generated k3s nodes with the k3s#3117 leak), every packet
 * to every Service, NodePort and a spread of other addresses has the same outcomes (probability,
 * disposition, destination, source, reject, mark) before and after the removals.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateDump } from "../bench/generate-dump.ts";
import { buildBundle } from "../demo/build-bundle.ts";
import { incidentBundleSpec } from "../demo/incident.ts";
import type { Ruleset } from "../model/ruleset.ts";
import type { Ingress, Packet } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import {
  RANDOM_DUMP_DESTINATIONS,
  RANDOM_DUMP_PORTS,
  randomFilterDump,
} from "../testing/random-filter-dump.ts";
import { buildTraceIndex, tracePacket } from "../trace/trace-packet.ts";
import { planDuplicates } from "./plan-duplicates.ts";
import { removedLines } from "./render-restore.ts";

function withoutLines(text: string, lines: ReadonlySet<number>): string {
  return text
    .split("\n")
    .filter((_, i) => !lines.has(i + 1))
    .join("\n");
}

/** Service and NodePort destinations named in the dump, plus a few that match nothing. */
function destinations(rs: Ruleset, localIp: string): { ip: string; port: number; proto: "tcp" | "udp" }[] {
  const out: { ip: string; port: number; proto: "tcp" | "udp" }[] = [
    { ip: "10.43.99.99", port: 80, proto: "tcp" },
    { ip: "1.1.1.1", port: 443, proto: "tcp" },
    { ip: localIp, port: 22, proto: "tcp" },
    { ip: localIp, port: 31000, proto: "udp" },
  ];
  const nat = rs.tables.get("nat");
  for (const chain of ["KUBE-SERVICES", "KUBE-NODEPORTS"]) {
    for (const r of nat?.chains.get(chain)?.rules ?? []) {
      const d = / -d (\d+\.\d+\.\d+\.\d+)\/32/.exec(r.text);
      const p = / --dport (\d+)/.exec(r.text);
      const proto = / -p udp/.test(r.text) ? "udp" : "tcp";
      if (p !== null) out.push({ ip: d?.[1] ?? localIp, port: Number(p[1]), proto });
    }
  }
  return out;
}

function outcomes(
  rs: Ruleset,
  packets: readonly { packet: Packet; from: Ingress }[],
  localIp: string,
): string[] {
  const index = buildTraceIndex(rs, { eager: false });
  return packets.map(({ packet, from }) => {
    const r = tracePacket(rs, { packet, from, localIps: [localIp] }, { index, nthCounters: "fresh" });
    return r.traces
      .map((t) =>
        [
          t.probability.toFixed(6),
          JSON.stringify(
            t.disposition.kind === "dropped" || t.disposition.kind === "rejected"
              ? { ...t.disposition, by: undefined }
              : t.disposition,
          ),
          JSON.stringify(t.headers),
          t.hops.at(-1)?.mark,
        ].join(" "),
      )
      .sort()
      .join(" | ");
  });
}

function check(
  dump: string,
  localIp: string,
  podIps: readonly string[],
): { packets: number; removed: number } {
  const rs = parseDump(dump, { lazy: true });
  const plan = planDuplicates(rs);
  const cleaned = parseDump(withoutLines(dump, removedLines(rs, plan)), { lazy: true });
  expect(cleaned.ruleCount).toBe(plan.after);
  const packets: { packet: Packet; from: Ingress }[] = [];
  for (const d of destinations(rs, localIp)) {
    for (const src of podIps) {
      packets.push({
        packet: { protocol: d.proto, srcIp: src, srcPort: 40000, dstIp: d.ip, dstPort: d.port },
        from: "pod",
      });
    }
    packets.push({
      packet: { protocol: d.proto, srcIp: localIp, srcPort: 40001, dstIp: d.ip, dstPort: d.port },
      from: "host",
    });
  }
  const before = outcomes(rs, packets, localIp);
  const after = outcomes(cleaned, packets, localIp);
  for (let i = 0; i < packets.length; i++) expect(after[i], JSON.stringify(packets[i])).toBe(before[i]);
  return { packets: packets.length, removed: plan.removed };
}

describe("fix duplicates: simulator outcomes before and after", () => {
  it("the demo's leaked node prod-agent1", () => {
    const dump = buildBundle(incidentBundleSpec()).get("nodes/prod-agent1/iptables-save.txt")!;
    const r = check(dump, "192.168.10.21", ["10.42.2.31", "10.42.0.4", "192.168.50.7"]);
    expect(r.removed).toBeGreaterThan(60_000);
    expect(r.packets).toBeGreaterThan(20);
  });

  it("generated k3s nodes with leaked copies", () => {
    let packets = 0;
    for (const services of [50, 150]) {
      const dump = [...generateDump({ services, duplicates: services * 20 })].join("");
      const r = check(dump, "192.168.0.10", ["10.42.0.5", "10.42.3.7", "172.16.0.9"]);
      expect(r.removed).toBeGreaterThan(0);
      packets += r.packets;
    }
    expect(packets).toBeGreaterThan(800);
  });

  it("random rulesets with injected copies of every kind (marks, jumps, gotos, RETURN, xor)", () => {
    let removed = 0;
    let traces = 0;
    const packets: { packet: Packet; from: Ingress }[] = [];
    for (const dstIp of RANDOM_DUMP_DESTINATIONS) {
      for (const dstPort of RANDOM_DUMP_PORTS) {
        packets.push({
          packet: { protocol: "tcp", srcIp: "198.18.1.2", srcPort: 40000, dstIp, dstPort },
          from: "pod",
        });
      }
    }
    for (const dump of fc.sample(randomFilterDump(), { numRuns: 400, seed: 9 })) {
      const rs = parseDump(dump);
      const plan = planDuplicates(rs);
      removed += plan.removed;
      const cleaned = parseDump(withoutLines(dump, removedLines(rs, plan)));
      expect(outcomes(cleaned, packets, "198.18.0.1"), dump).toEqual(outcomes(rs, packets, "198.18.0.1"));
      traces += 2 * packets.length;
    }
    expect(removed).toBeGreaterThan(100);
    expect(traces).toBeGreaterThan(4000);
  });
});
