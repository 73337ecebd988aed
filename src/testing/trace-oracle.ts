/**
 * Compares the tracer with the kernel: loads a ruleset into a netns lab, reads it back with the
 * real iptables-save (so the tracer sees the format a node prints), predicts each probe's outcomes
 * with {@linkcode tracePacket} and repeats the real connection until every predicted outcome was
 * seen (bounded). Any outcome the kernel shows that was not predicted, or a predicted one never
 * seen, is a mismatch.
 */
import type { Ruleset } from "../model/ruleset.ts";
import type { Trace, TraceResult } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { stepText } from "../report/trace-words.ts";
import { addressText } from "../trace/address-text.ts";
import { tracePacket } from "../trace/trace-packet.ts";
import type { Lab } from "./netns-lab.ts";
import {
  attemptsFor,
  expectedKey,
  ORACLE_TOPOLOGY,
  type OracleProbe,
  observedKey,
  podIp,
  serverOf,
} from "./trace-oracle-keys.ts";

export { ORACLE_TOPOLOGY, type OracleProbe } from "./trace-oracle-keys.ts";

/**
 * Builds iptables-restore input from rule lines grouped by table, declaring every user chain the
 * lines append to or jump to (built-in chains get ACCEPT unless `policies` says otherwise).
 */
export function restoreText(
  tables: Partial<Record<"raw" | "mangle" | "nat" | "filter", readonly string[]>>,
  policies: Readonly<Record<string, "ACCEPT" | "DROP">> = {},
): string {
  const builtins: Record<string, readonly string[]> = {
    raw: ["PREROUTING", "OUTPUT"],
    mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
    filter: ["INPUT", "FORWARD", "OUTPUT"],
  };
  const verdicts = new Set([
    "ACCEPT",
    "DROP",
    "REJECT",
    "RETURN",
    "DNAT",
    "SNAT",
    "MASQUERADE",
    "MARK",
    "LOG",
    "REDIRECT",
    "NOTRACK",
    "CT",
    "CONNMARK",
  ]);
  let out = "";
  for (const [table, lines] of Object.entries(tables)) {
    const chains = new Set<string>();
    for (const l of lines ?? []) {
      const m = /^-A (\S+)/.exec(l);
      if (m) chains.add(m[1]!);
      for (const j of l.matchAll(/ -[jg] (\S+)/g)) if (!verdicts.has(j[1]!)) chains.add(j[1]!);
    }
    out += `*${table}\n`;
    for (const b of builtins[table] ?? []) out += `:${b} ${policies[`${table}/${b}`] ?? "ACCEPT"} [0:0]\n`;
    for (const c of [...chains].sort()) if (!(builtins[table] ?? []).includes(c)) out += `:${c} - [0:0]\n`;
    out += `${(lines ?? []).join("\n")}\nCOMMIT\n`;
  }
  return out;
}

/** The lab spec of the standard oracle topology. */
export function oracleLabSpec(area: string, backend: "nft" | "legacy" = "nft") {
  const t = ORACLE_TOPOLOGY;
  return {
    area,
    backend,
    nodeIps: [t.nodeIp],
    nodeTcpPorts: t.ports,
    pods: [t.pod, t.pod2],
    servers: t.servers.map((s) => ({ ...s, tcpPorts: t.ports, udpPorts: [53] })),
    world: { tcpPorts: t.ports },
  };
}

const nextPort = new Map<string, number>();

function portFor(range: readonly [number, number]): number {
  const key = `${range[0]}-${range[1]}`;
  const n = nextPort.get(key) ?? 0;
  nextPort.set(key, n + 1);
  return range[0] + (n % (range[1] - range[0] + 1));
}

export interface Comparison {
  readonly probe: OracleProbe;
  /** Predicted outcome key -> probability. */
  readonly predicted: Map<string, number>;
  /** Observed outcome key -> count. */
  readonly observed: Map<string, number>;
  readonly paths: readonly Trace[];
  /** Undefined when kernel and tracer agree. */
  readonly mismatch?: string;
}

/** Reads the lab's ruleset back as iptables-save prints it. */
export function savedRuleset(lab: Lab): { text: string; ruleset: Ruleset } {
  const text = lab.save();
  return { text, ruleset: parseDump(text) };
}

/** What the tracer predicts for a probe in the oracle topology. */
function predict(lab: Lab, ruleset: Ruleset, probe: OracleProbe): TraceResult {
  const t = ORACLE_TOPOLOGY;
  const from = probe.from === "node" ? "host" : "pod";
  const srcPort = probe.srcPortRange?.[0] ?? probe.srcPort;
  return tracePacket(
    ruleset,
    {
      packet: {
        protocol: probe.protocol ?? "tcp",
        srcIp: podIp(probe.from),
        dstIp: probe.dstIp,
        dstPort: probe.dstPort,
        ...(srcPort === undefined ? {} : { srcPort }),
      },
      from,
      localIps: [t.nodeIp],
      ...(from === "pod" ? { inInterface: lab.interfaceOf(probe.from) } : {}),
    },
    {
      nthCounters: "unknown",
      routeInterface: (ip) => {
        const s = serverOf(ip);
        if (s === "node") return "lo";
        return s === "world" ? "nd-w" : t.servers.some((x) => x.name === s) ? lab.interfaceOf(s) : undefined;
      },
    },
  );
}

/**
 * Runs one probe against the kernel and the tracer. Deterministic predictions get `minAttempts`
 * tries; random ones are repeated until every predicted outcome appeared (at most `maxAttempts`).
 */
export async function compareProbe(
  lab: Lab,
  ruleset: Ruleset,
  probe: OracleProbe,
  options: {
    readonly minAttempts?: number;
    readonly maxAttempts?: number;
    readonly timeoutMs?: number;
    /**
     * Reload this ruleset before every attempt: for rules with state (`-m recent`, nth counters)
     * the tracer predicts the first packet on a freshly loaded ruleset, so every attempt must be one.
     */
    readonly reload?: string;
  } = {},
): Promise<Comparison> {
  const protocol = probe.protocol ?? "tcp";
  const result = predict(lab, ruleset, probe);
  const predicted = new Map<string, number>();
  for (const p of result.traces) {
    const key = expectedKey(p, protocol);
    predicted.set(key, (predicted.get(key) ?? 0) + p.probability);
  }
  const observed = new Map<string, number>();
  const random = predicted.size > 1;
  const min = options.minAttempts ?? 1;
  const max = random ? Math.max(min, attemptsFor(predicted, options.maxAttempts ?? 40)) : min;
  for (let i = 0; i < max; i++) {
    if (options.reload !== undefined) {
      await lab.load("");
      await lab.load(options.reload);
    }
    const r = await lab.probe({
      from: probe.from,
      protocol,
      dstIp: probe.dstIp,
      dstPort: probe.dstPort,
      ...(probe.srcPortRange !== undefined
        ? { srcPort: portFor(probe.srcPortRange) }
        : probe.srcPort === undefined
          ? {}
          : { srcPort: probe.srcPort }),
      // A predicted timeout is confirmed quickly; anything else gets time for a slow answer on a busy machine.
      timeoutMs: predicted.has("timeout") ? (options.timeoutMs ?? 250) : 3000,
    });
    const key = observedKey(r);
    observed.set(key, (observed.get(key) ?? 0) + 1);
    if (!predicted.has(key)) break;
    if (i + 1 >= min && [...predicted.keys()].every((k) => observed.has(k))) break;
  }
  const unexpected = [...observed.keys()].filter((k) => !predicted.has(k));
  const missing = [...predicted.keys()].filter((k) => !observed.has(k));
  const mismatch =
    unexpected.length === 0 && missing.length === 0
      ? undefined
      : `kernel showed [${unexpected.join("; ")}] not predicted; predicted [${missing.join("; ")}] not seen`;
  return {
    probe,
    predicted,
    observed,
    paths: result.traces,
    ...(mismatch === undefined ? {} : { mismatch }),
  };
}

/** A readable account of a failed comparison, for assertion messages. */
export function describeMismatch(c: Comparison, rulesetText: string): string {
  const lines = [
    `probe ${JSON.stringify(c.probe)}: ${c.mismatch}`,
    `predicted: ${JSON.stringify([...c.predicted])}`,
    `observed: ${JSON.stringify([...c.observed])}`,
    ...c.paths.map(
      (p) =>
        `  path p=${p.probability} ${p.disposition.kind} ${addressText(p.headers.dst)}: ${p.hops
          .flatMap((h) => h.steps)
          .map(
            (s) =>
              `${s.kind === "filter" || s.kind === "transform" ? s.evidence.line : s.kind}:${stepText(s)}`,
          )
          .join(" > ")}`,
    ),
    "ruleset:",
    rulesetText,
  ];
  return lines.join("\n");
}
