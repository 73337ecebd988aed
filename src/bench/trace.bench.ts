/**
 * `npm run bench -- trace`: traces per second on a generated 1M-rule k3s node dump (kube-proxy
 * rules for ~50k Services plus k3s-io/k3s#3117 leaked copies), after a lazy parse and the dispatch
 * index build, against the same tracer scanning every chain linearly (what a tracer without an
 * index, or a person walking `iptables -t nat -S CHAIN` by hand, has to do).
 */

import type { Ruleset } from "../model/ruleset.ts";
import type { Packet } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { buildTraceIndex, type TraceIndex, tracePacket } from "../trace/trace-packet.ts";
import { generateDump, generatedCounts, optionsForRules } from "./generate-dump.ts";

export const name = "trace";

const RULES = 1_000_000;
const TRACES = 300_000;
const LINEAR_TRACES = 300;

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The packets traced: ClusterIPs and NodePorts taken from the dump, plus pod-to-pod traffic (no Service). */
function benchPackets(ruleset: Ruleset): Packet[] {
  const services = ruleset.tables.get("nat")!.chains.get("KUBE-SERVICES")!.rules;
  const nodePorts = ruleset.tables.get("nat")!.chains.get("KUBE-NODEPORTS")?.rules ?? [];
  const packets: Packet[] = [];
  for (let i = 0; i < 2000; i++) {
    const r = services[(i * 7919) % services.length]!;
    const m = / -d (\d+\.\d+\.\d+\.\d+)\/32 .*--dport (\d+)/.exec(r.text);
    if (m)
      packets.push({
        protocol: "tcp",
        srcIp: `10.42.${i % 200}.${(i % 250) + 2}`,
        srcPort: 40000 + i,
        dstIp: m[1]!,
        dstPort: Number(m[2]),
      });
  }
  for (let i = 0; i < 200 && nodePorts.length > 0; i++) {
    const m = /--dport (\d+)/.exec(nodePorts[(i * 31) % nodePorts.length]!.text);
    if (m)
      packets.push({
        protocol: "tcp",
        srcIp: "203.0.113.9",
        srcPort: 50000 + i,
        dstIp: "192.168.1.10",
        dstPort: Number(m[1]),
      });
  }
  for (let i = 0; i < 200; i++)
    packets.push({
      protocol: "tcp",
      srcIp: "10.42.0.5",
      srcPort: 41000 + i,
      dstIp: `10.42.3.${i + 1}`,
      dstPort: 8080,
    });
  return packets;
}

const LOCAL_IPS = ["192.168.1.10"];

/** What the timed traces measured. */
interface TraceTimes {
  /** Paths over all packets of the warm-up (one trace per packet). */
  readonly paths: number;
  readonly warmS: number;
  readonly perSecond: number;
  readonly perWallSecond: number;
  readonly linearPerSecond: number;
  /** Traces that ended undecided. */
  readonly unknown: number;
}

/** Times the traces of `packets` with the dispatch index, then with the linear baseline. */
function timeTraces(ruleset: Ruleset, packets: readonly Packet[], index: TraceIndex): TraceTimes {
  const localIps = LOCAL_IPS;
  // Warm-up: compiles the rules on the traced paths once (first traces on a node pay this).
  let t = performance.now();
  let paths = 0;
  for (const packet of packets)
    paths += tracePacket(ruleset, { packet, from: "pod", localIps }, { index }).traces.length;
  const warmS = seconds(t);

  t = performance.now();
  const cpu0 = process.cpuUsage();
  let unknown = 0;
  for (let i = 0; i < TRACES; i++) {
    const r = tracePacket(
      ruleset,
      { packet: packets[i % packets.length]!, from: "pod", localIps },
      { index },
    );
    if (r.traces[0]!.disposition.kind === "undecided") unknown++;
  }
  const traceS = seconds(t);
  const cpu = process.cpuUsage(cpu0);
  // CPU time, not wall time: the figure is per core-second even on a busy machine.
  const perSecond = TRACES / ((cpu.user + cpu.system) / 1e6);
  const perWallSecond = TRACES / traceS;

  const linear = buildTraceIndex(ruleset, { dispatch: false });
  const lcpu0 = process.cpuUsage();
  for (let i = 0; i < LINEAR_TRACES; i++) {
    tracePacket(ruleset, { packet: packets[i % packets.length]!, from: "pod", localIps }, { index: linear });
  }
  const lcpu = process.cpuUsage(lcpu0);
  const linearPerSecond = LINEAR_TRACES / ((lcpu.user + lcpu.system) / 1e6);
  return { paths, warmS, perSecond, perWallSecond, linearPerSecond, unknown };
}

/**
 * Memory: the process's true peak (resident set high-water mark: the generated dump text, the
 * parse and its garbage, the index, the traces, the linear baseline), the RSS now (what this
 * figure used to report, under the name "peak"), and the heap the ruleset and the tracers still
 * hold once garbage is collected (after all timing, so the collection costs no measured time).
 */
function memoryLine(): string {
  const peakMB = process.resourceUsage().maxRSS / 1024;
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  global.gc?.();
  const heapMB = process.memoryUsage().heapUsed / 2 ** 20;
  const retained = global.gc === undefined ? "" : `, heap retained after GC ${fmt(heapMB)} MB`;
  return `peak RSS ${fmt(peakMB)} MB (whole process,\nincluding the generated dump text), RSS at the end ${fmt(rssMB)} MB${retained}.`;
}

export async function run(): Promise<string> {
  const options = optionsForRules(RULES);
  const rules = generatedCounts(options).rules;
  global.gc?.();
  // The generator's own time is excluded: the dump is generated into chunks first.
  const chunks = [...generateDump(options)];
  let t = performance.now();
  let c = process.cpuUsage();
  const ruleset = parseDump(chunks, { lazy: true });
  const parseS = seconds(t);
  const parseCpu = cpuSeconds(c);
  chunks.length = 0;

  t = performance.now();
  c = process.cpuUsage();
  const index = buildTraceIndex(ruleset);
  const indexS = seconds(t);
  const indexCpu = cpuSeconds(c);

  const services = ruleset.tables.get("nat")!.chains.get("KUBE-SERVICES")!.rules.length;
  const packets = benchPackets(ruleset);
  const { paths, warmS, perSecond, perWallSecond, linearPerSecond, unknown } = timeTraces(
    ruleset,
    packets,
    index,
  );
  const memory = memoryLine();

  return [
    "### trace",
    "",
    `Generated k3s node dump: ${fmt(rules)} rules (${fmt(services)} in nat KUBE-SERVICES), ${fmt(packets.length)} distinct packets`,
    `(ClusterIPs, NodePorts, pod-to-pod), ${fmt(paths / packets.length, 2)} paths per trace on average, one core, node ${process.version}.`,
    "",
    "| step | netdoctor | linear scan (no index) | ratio |",
    "|---|---|---|---|",
    `| lazy parse of the dump (CPU / wall) | ${fmt(parseCpu, 2)} s / ${fmt(parseS, 2)} s | same | |`,
    `| dispatch index build (CPU / wall) | ${fmt(indexCpu * 1000)} ms / ${fmt(indexS * 1000)} ms (${index.indexedChains} chains) | none | |`,
    `| first trace of each packet (compiles rules on its path) | ${fmt((warmS / packets.length) * 1e6, 1)} µs | | |`,
    `| traces per CPU-second | **${fmt(perSecond)}** | ${fmt(linearPerSecond)} | ${fmt(perSecond / linearPerSecond)}x |`,
    `| traces per wall-clock second (this run) | ${fmt(perWallSecond)} | | |`,
    "",
    `${unknown === 0 ? "No" : fmt(unknown)} traces ended unknown; ${memory}`,
    "",
  ].join("\n");
}
