/**
 * Packet-flow tables on the shared kube-proxy fixtures (as a node's iptables-save prints them), in the
 * spirit of upstream's runPacketFlowTests: node IP 192.168.0.2, pods 10.0.0.0/8.
 */
import { describe, expect, it } from "vitest";
import type { Ruleset } from "../model/ruleset.ts";
import { checkTraceSteps, type Ingress, type TraceResult } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { clientErrorOf, dispositionWord } from "../report/trace-words.ts";
import { kubeProxyFixtures, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { addressText } from "./address-text.ts";
import { buildTraceIndex, tracePacket } from "./trace-packet.ts";

const skip = skipWithoutSharedFixtures("kube-proxy fixture trace tests");
const fixtures = skip
  ? []
  : kubeProxyFixtures().filter((f) => /^normalized\/.*\.save(-c)?\.txt$/.test(f.name));
const NODE_IP = "192.168.0.2";

interface Flow {
  readonly name: string;
  readonly from?: Ingress;
  readonly src: string;
  readonly dst: string;
  /** Each path as `disposition destination [masq] [errno]`, sorted. */
  readonly expect: readonly string[];
}

function run(ruleset: Ruleset, flow: Flow): TraceResult {
  const [ip, port] = flow.dst.split(":");
  return tracePacket(ruleset, {
    packet: { protocol: "tcp", srcIp: flow.src, srcPort: 41000, dstIp: ip!, dstPort: Number(port) },
    from: flow.from ?? "pod",
    localIps: [NODE_IP],
    inInterface: "eth0",
    outInterface: "eth0",
  });
}

function describePaths(r: TraceResult): string[] {
  return r.traces
    .map((t) => {
      const err = clientErrorOf(t.disposition);
      const mark = t.hops.at(-1)?.mark;
      return [
        t.probability === 1 ? "" : `${t.probability.toFixed(3)} `,
        dispositionWord(t.disposition),
        ` ${addressText(t.headers.dst)}`,
        t.headers.src.kind === "out-interface" ? " masq" : "",
        mark ? ` mark=${mark}` : "",
        err ? ` ${err}` : "",
      ].join("");
    })
    .sort();
}

const V131: readonly Flow[] = [
  { name: "pod to cluster IP", src: "10.0.0.2", dst: "172.30.0.41:80", expect: ["forward 10.180.0.1:80"] },
  {
    name: "node to cluster IP",
    from: "host",
    src: NODE_IP,
    dst: "172.30.0.41:80",
    expect: ["forward 10.180.0.1:80 masq"],
  },
  {
    name: "cluster IP with two endpoints",
    src: "10.0.0.2",
    dst: "172.30.0.44:80",
    expect: ["0.500 forward 10.180.0.4:80", "0.500 forward 10.180.0.5:80"],
  },
  {
    name: "cluster IP without endpoints",
    src: "10.0.0.2",
    dst: "172.30.0.46:80",
    expect: ["reject 172.30.0.46:80 ECONNREFUSED"],
  },
  {
    name: "pod to NodePort of an eTP=Local service",
    src: "10.0.0.2",
    dst: `${NODE_IP}:3001`,
    expect: ["forward 10.180.0.2:80"],
  },
  {
    name: "external to NodePort of an eTP=Local service without local endpoints",
    src: "203.0.113.5",
    dst: `${NODE_IP}:3001`,
    expect: [`drop ${NODE_IP}:3001`],
  },
  {
    name: "external to NodePort of a Cluster service",
    src: "203.0.113.5",
    dst: `${NODE_IP}:3003`,
    expect: ["forward 10.180.0.3:80 masq"],
  },
  {
    name: "localhost NodePort",
    from: "host",
    src: "127.0.0.1",
    dst: "127.0.0.1:3001",
    expect: ["forward 10.180.0.2:80 masq"],
  },
  {
    name: "pod to external IP of an eTP=Local service",
    src: "10.0.0.2",
    dst: "192.168.99.22:80",
    expect: ["forward 10.180.0.2:80"],
  },
  {
    name: "external to external IP without local endpoints",
    src: "203.0.113.5",
    dst: "192.168.99.22:80",
    expect: ["drop 192.168.99.22:80"],
  },
  {
    name: "allowed source to LB IP with source ranges",
    src: "203.0.113.4",
    dst: "5.6.7.8:80",
    expect: ["forward 10.180.0.3:80 masq"],
  },
  {
    name: "blocked source to LB IP with source ranges",
    src: "203.0.113.200",
    dst: "5.6.7.8:80",
    expect: ["drop 5.6.7.8:80"],
  },
  {
    name: "external IP of a Cluster service",
    src: "10.0.0.2",
    dst: "192.168.99.33:80",
    expect: ["0.500 forward 10.180.0.4:80 masq", "0.500 forward 10.180.0.5:80 masq"],
  },
  { name: "not a service", src: "10.0.0.2", dst: "172.30.0.99:80", expect: ["forward 172.30.0.99:80"] },
];

const V123: readonly Flow[] = [
  { name: "pod to cluster IP", src: "10.0.0.2", dst: "10.20.30.41:80", expect: ["forward 10.180.0.1:80"] },
  {
    name: "duplicate cluster IP: the first rule wins",
    src: "10.0.0.2",
    dst: "10.20.30.43:80",
    expect: ["forward 10.180.0.3:80"],
  },
  {
    name: "pod to external IP (XLB short-circuit)",
    src: "10.0.0.2",
    dst: "1.2.3.4:80",
    expect: ["forward 10.180.0.2:80"],
  },
  // KUBE-MARK-DROP only marks: the kubelet DROP rule is not in this dump, so the packet goes on.
  {
    name: "external to XLB without local endpoints",
    src: "203.0.113.9",
    dst: "1.2.3.4:80",
    expect: ["forward 1.2.3.4:80 mark=0x8000"],
  },
];

describe.skipIf(skip)("tracePacket on kube-proxy fixtures", () => {
  for (const f of fixtures) {
    const table = f.name.includes("v1.31ish") ? V131 : f.name.includes("v1.23ish") ? V123 : [];
    describe(f.name, () => {
      const ruleset = parseDump(f.text);
      it.each(table.map((flow) => [flow.name, flow] as const))("%s", (_name, flow) => {
        expect(describePaths(run(ruleset, flow))).toEqual([...flow.expect].sort());
      });

      it("every KUBE-SERVICES ClusterIP traces to the DNAT targets of its service, probabilities summing to 1", () => {
        const lazy = parseDump(f.text, { lazy: true });
        const index = buildTraceIndex(lazy);
        const dnatTargets = new Set(
          [...(lazy.tables.get("nat")?.chains.values() ?? [])]
            .flatMap((c) => c.rules)
            .map((r) => /--to-destination (\S+)/.exec(r.text)?.[1])
            .filter((t): t is string => t !== undefined),
        );
        const services = lazy.tables.get("nat")?.chains.get("KUBE-SERVICES")?.rules ?? [];
        let traced = 0;
        for (const rule of services) {
          const d = rule.spec.destination?.value.replace("/32", "");
          const port = /--dport (\d+)/.exec(rule.text)?.[1];
          if (d === undefined || port === undefined) continue;
          const r = tracePacket(
            lazy,
            {
              packet: { protocol: "tcp", srcIp: "10.0.0.2", dstIp: d, dstPort: Number(port) },
              from: "pod",
              localIps: [NODE_IP],
            },
            { index },
          );
          expect(r.traces.reduce((a, t) => a + t.probability, 0)).toBeCloseTo(1, 9);
          for (const t of r.traces) {
            checkTraceSteps(t);
            expect(t.disposition.kind, `${rule.line}: ${JSON.stringify(t.disposition)}`).not.toBe(
              "undecided",
            );
            const dest = addressText(t.headers.dst);
            if (t.disposition.kind === "forwarded" && dest !== `${d}:${port}`)
              expect(dnatTargets).toContain(dest);
          }
          traced++;
        }
        expect(traced).toBeGreaterThan(0);
      });
    });
  }
});
