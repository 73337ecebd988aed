/**
 * Compares the nftables evaluator with the kernel: a ruleset is loaded with the real nft into a netns
 * lab (the standard oracle topology of trace-oracle.ts), read back with `nft -j` / `nft -a` and parsed
 * as a bundle would be, each probe's outcomes are predicted by {@linkcode traceNftHost}, and the real
 * connection is repeated until every predicted outcome was seen (bounded). An outcome the kernel shows
 * that was not predicted, or a predicted one never seen, is a mismatch. A prediction that is
 * "undecided" is a mismatch too: the suites only use rulesets the evaluator claims to model.
 */
import type { NftRuleset } from "../nft/nft-ruleset.ts";
import { parseNftRuleset } from "../nft/parse-nft-json.ts";
import { type NftHostPath, traceNftHost } from "../nft/trace-nft-host.ts";
import type { Lab } from "./netns-lab.ts";
import { dumpNft, loadNftLab } from "./nft-lab.ts";
import { attemptsFor, ORACLE_TOPOLOGY, observedKey } from "./trace-oracle-keys.ts";

export interface NftProbe {
  readonly from: "pod" | "pod2" | "node";
  readonly protocol?: "tcp" | "udp";
  readonly dstIp: string;
  readonly dstPort: number;
}

export interface NftComparison {
  readonly probe: NftProbe;
  readonly predicted: Map<string, number>;
  readonly observed: Map<string, number>;
  readonly paths: readonly NftHostPath[];
  readonly mismatch?: string;
}

/** Loads `text` into the lab and parses what the real nft prints back. */
export function loadAndParse(lab: Lab, text: string): { ruleset: NftRuleset; json: string; dump: string } {
  loadNftLab(lab, text);
  const d = dumpNft(lab.namespaces.node);
  return { ruleset: parseNftRuleset(d.json, { text: d.text }), json: d.json, dump: d.text };
}

function ipOf(endpoint: string): string {
  return endpoint.split(":")[0] ?? endpoint;
}

function serverOf(ip: string): string {
  const t = ORACLE_TOPOLOGY;
  if (ip === t.nodeIp || ip.startsWith("127.")) return "node";
  const s = t.servers.find((x) => x.ip === ip);
  if (s !== undefined) return s.name;
  if (ip.startsWith("198.19.")) return "world";
  return `nobody(${ip})`;
}

/** What the lab should show for a predicted path. */
export function expectedNftKey(path: NftHostPath, protocol: "tcp" | "udp"): string {
  switch (path.disposition) {
    case "forward":
    case "local": {
      const src = path.source === undefined ? "?" : ipOf(path.source);
      return `answer ${serverOf(ipOf(path.destination))} ${path.destination} from ${src}`;
    }
    case "drop":
      return "timeout";
    case "reject":
      return path.clientError === undefined ? "timeout" : `error ${path.clientError}`;
    case "unknown":
      return `undecided: ${path.reason} (${protocol})`;
    default: {
      const never: never = path.disposition;
      throw new TypeError(`Unknown disposition ${String(never)}`);
    }
  }
}

let nextSourcePort = 20000 + (process.pid % 1000) * 30;

/** A fresh source port per attempt: no attempt meets the conntrack entry of an earlier one. */
function sourcePort(): number {
  nextSourcePort = nextSourcePort >= 59990 ? 20000 : nextSourcePort + 1;
  return nextSourcePort;
}

/** The evaluator's options for the oracle topology. */
export function labTraceOptions(lab: Lab) {
  const t = ORACLE_TOPOLOGY;
  return {
    localIps: [t.nodeIp],
    routeInterface: (ip: string) => {
      const s = serverOf(ip);
      if (s === "node") return "lo";
      if (s === "world") return "nd-w";
      return t.servers.some((x) => x.name === s) ? lab.interfaceOf(s) : undefined;
    },
    // The lab's veths carry no IPv4 address; the node's addresses live on lo.
    interfaceAddresses: (ifname: string) => (ifname === "lo" ? ["127.0.0.1", t.nodeIp] : []),
    // inet_select_addr on an address-less veth falls back to a global address of the netns.
    masqueradeAddress: () => t.nodeIp,
    files: { json: "nft-ruleset.json", text: "nft-ruleset.txt" },
  };
}

/** Runs one probe against the kernel and the evaluator. */
export async function compareNftProbe(
  lab: Lab,
  ruleset: NftRuleset,
  probe: NftProbe,
  options: { readonly maxAttempts?: number; readonly timeoutMs?: number } = {},
): Promise<NftComparison> {
  const protocol = probe.protocol ?? "tcp";
  const t = ORACLE_TOPOLOGY;
  const srcIp = probe.from === "pod" ? t.pod.ip : probe.from === "pod2" ? t.pod2.ip : t.nodeIp;
  const trace = traceNftHost(
    ruleset,
    {
      packet: { protocol, srcIp, srcPort: 40000, dstIp: probe.dstIp, dstPort: probe.dstPort },
      from: probe.from === "node" ? "host" : "pod",
      ...(probe.from === "node" ? {} : { inInterface: lab.interfaceOf(probe.from) }),
    },
    labTraceOptions(lab),
  );
  const predicted = new Map<string, number>();
  for (const p of trace.paths) {
    const key = expectedNftKey(p, protocol);
    predicted.set(key, (predicted.get(key) ?? 0) + p.probability);
  }
  const observed = new Map<string, number>();
  const random = predicted.size > 1;
  const max = random ? attemptsFor(predicted, options.maxAttempts ?? 40) : 1;
  for (let i = 0; i < max; i++) {
    const r = await lab.probe({
      from: probe.from,
      protocol,
      dstIp: probe.dstIp,
      dstPort: probe.dstPort,
      srcPort: sourcePort(),
      timeoutMs: predicted.has("timeout") ? (options.timeoutMs ?? 300) : 3000,
    });
    const key = observedKey(r);
    observed.set(key, (observed.get(key) ?? 0) + 1);
    if (!predicted.has(key)) break;
    if ([...predicted.keys()].every((k) => observed.has(k))) break;
  }
  const unexpected = [...observed.keys()].filter((k) => !predicted.has(k));
  const missing = [...predicted.keys()].filter((k) => !observed.has(k));
  const mismatch =
    unexpected.length === 0 && missing.length === 0
      ? undefined
      : `kernel showed [${unexpected.join("; ")}] not predicted; predicted [${missing.join("; ")}] not seen`;
  return { probe, predicted, observed, paths: trace.paths, ...(mismatch === undefined ? {} : { mismatch }) };
}

/** A readable account of a failed comparison, for assertion messages. */
export function describeNftMismatch(c: NftComparison, rulesetText: string): string {
  return [
    `probe ${JSON.stringify(c.probe)}: ${c.mismatch}`,
    `predicted: ${JSON.stringify([...c.predicted])}`,
    `observed: ${JSON.stringify([...c.observed])}`,
    ...c.paths.map(
      (p) =>
        `  path p=${p.probability} ${p.disposition} ${p.destination}${p.reason ? ` (${p.reason})` : ""}: ${p.steps
          .map((s) => `${s.table}/${s.chain}#${s.handle ?? "policy"}:${s.action}`)
          .join(" > ")}`,
    ),
    "ruleset (nft -a list ruleset):",
    rulesetText,
  ].join("\n");
}
