/**
 * The whole-host trace (src/trace/trace-host.ts) against the kernel: a native nft ruleset, iptables-nft
 * rules and legacy xtables rules are loaded together into a netns lab's node namespace (oracle
 * topology, trace-oracle-keys.ts), read back as a bundle holds them (`nft -j`, `nft -a`,
 * `iptables-nft-save`, `iptables-legacy-save`), each probe is predicted by `traceHost` and repeated
 * against the kernel until every predicted outcome was seen (bounded); anything else is a mismatch.
 */
import type { Trace } from "../model/trace.ts";
import { parseNftRuleset } from "../nft/parse-nft-json.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { type HostEvidence, traceHost } from "../trace/trace-host.ts";
import type { Lab } from "./netns-lab.ts";
import { dumpNft, loadNftLab, nsExec } from "./nft-lab.ts";
import { labTraceOptions } from "./nft-oracle.ts";
import { attemptsFor, expectedKey, type OracleProbe, observedKey, podIp } from "./trace-oracle-keys.ts";

/** A node ruleset of all three kinds. */
export interface HostScenario {
  readonly name: string;
  readonly shows: string;
  readonly nft: string;
  readonly iptablesNft?: string;
  readonly legacy?: string;
  readonly probes: readonly OracleProbe[];
}

const EMPTY_LEGACY =
  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n";

/** Loads the scenario into the lab's node namespace and reads it back as a bundle would. */
export function loadHostScenario(lab: Lab, s: HostScenario): { evidence: HostEvidence; text: string } {
  const ns = lab.namespaces.node;
  loadNftLab(lab, s.nft);
  // Legacy tables survive `flush ruleset`: reset them every time.
  nsExec(ns, ["iptables-legacy-restore"], s.legacy ?? EMPTY_LEGACY);
  if (s.iptablesNft !== undefined) nsExec(ns, ["iptables-nft-restore", "--noflush"], s.iptablesNft);
  const d = dumpNft(ns);
  const iptables = nsExec(ns, ["iptables-nft-save"]);
  const legacy = s.legacy === undefined ? undefined : nsExec(ns, ["iptables-legacy-save"]);
  const evidence: HostEvidence = {
    nft: {
      ruleset: parseNftRuleset(d.json, { text: d.text }),
      files: { json: "nft-ruleset.json", text: "nft-ruleset.txt" },
    },
    ...(iptables.trim() === ""
      ? {}
      : { iptables: { ruleset: parseDump(iptables), file: "iptables-save.txt" } }),
    ...(legacy === undefined
      ? {}
      : { legacy: { ruleset: parseDump(legacy), file: "iptables-legacy-save.txt" } }),
  };
  return {
    evidence,
    text: `${d.text}\n--- iptables-nft-save ---\n${iptables}\n--- iptables-legacy-save ---\n${legacy ?? ""}`,
  };
}

let nextPort = 30000 + (process.pid % 1000) * 20;
function sourcePort(): number {
  nextPort = nextPort >= 59990 ? 30000 : nextPort + 1;
  return nextPort;
}

/** Predicts a probe with traceHost and runs it against the kernel; undefined when they agree. */
export async function compareHostProbe(
  lab: Lab,
  evidence: HostEvidence,
  probe: OracleProbe,
): Promise<{ mismatch?: string; traces: readonly Trace[] }> {
  const protocol = probe.protocol ?? "tcp";
  const opts = labTraceOptions(lab);
  const { result } = traceHost(
    evidence,
    {
      packet: {
        protocol,
        srcIp: podIp(probe.from),
        srcPort: 40000,
        dstIp: probe.dstIp,
        dstPort: probe.dstPort,
      },
      from: probe.from === "node" ? "host" : "pod",
      localIps: opts.localIps,
      ...(probe.from === "node" ? {} : { inInterface: lab.interfaceOf(probe.from) }),
    },
    opts,
  );
  // Each predicted outcome with its probability: a rare one gets enough attempts to be seen.
  const predicted = new Map<string, number>();
  for (const t of result.traces) {
    const key = expectedKey(t, protocol);
    predicted.set(key, (predicted.get(key) ?? 0) + t.probability);
  }
  const observed = new Set<string>();
  const max = predicted.size > 1 ? attemptsFor(predicted, 40) : 1;
  for (let i = 0; i < max; i++) {
    const r = await lab.probe({
      from: probe.from,
      protocol,
      dstIp: probe.dstIp,
      dstPort: probe.dstPort,
      srcPort: sourcePort(),
      timeoutMs: predicted.has("timeout") ? 300 : 3000,
    });
    observed.add(observedKey(r));
    if (!predicted.has(observedKey(r)) || [...predicted.keys()].every((k) => observed.has(k))) break;
  }
  const unexpected = [...observed].filter((k) => !predicted.has(k));
  const missing = [...predicted.keys()].filter((k) => !observed.has(k));
  return unexpected.length === 0 && missing.length === 0
    ? { traces: result.traces }
    : {
        traces: result.traces,
        mismatch: `probe ${JSON.stringify(probe)}: kernel showed [${unexpected.join("; ")}] not predicted; predicted [${missing.join("; ")}] not seen`,
      };
}
