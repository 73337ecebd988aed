/**
 * The whole-host trace (issue 15): a connection's first packet through every base chain of every
 * table at each hook, in priority order — legacy xtables tables (iptables-legacy-save), iptables-nft
 * tables (walked from iptables-save, in the nft ruleset's place for them) and native nftables tables
 * of the `ip`/`inet`/`netdev` families — with nftables semantics: an accept ends one base chain, the
 * next one still sees the packet; drop and reject are final; NAT runs once per connection. The nft
 * walk is src/nft/trace-nft-host.ts; this file feeds it the iptables chains and turns its paths into
 * the typed trace of model/trace.ts.
 */

import type { Disposition } from "../model/disposition.ts";
import type { Flow, Headers } from "../model/flow.ts";
import type { Ruleset, TableName } from "../model/ruleset.ts";
import { endingOf, type Trace, type TraceResult, traceResult } from "../model/trace.ts";
import type { FilterStep, Step } from "../model/trace-step.ts";
import { inCidr, parseCidr, parseIpv4 } from "../net/ipv4.ts";
import type { EvidenceFiles } from "../nft/eval-chain.ts";
import type { NftChain, NftHook, NftRuleset, NftTable } from "../nft/nft-ruleset.ts";
import { type NftHostOptions, type NftHostPath, traceNftHost } from "../nft/trace-nft-host.ts";
import { type DelegateSteps, type IptablesChains, iptablesChainPaths } from "./iptables-delegate.ts";
import { addressOf, nftPathSteps } from "./nft-trace-steps.ts";
import { buildTraceIndex } from "./trace-index.ts";
import type { TraceRequest } from "./trace-request.ts";

/** An iptables dump of the node and the file its evidence names. */
export interface IptablesDump {
  readonly ruleset: Ruleset;
  readonly file: string;
}

/** The node's netfilter evidence; `nft` is what makes the trace whole-host. */
export interface HostEvidence {
  readonly nft: { readonly ruleset: NftRuleset; readonly files: EvidenceFiles };
  /** `iptables-save` (iptables-nft on most nodes, legacy on old ones). */
  readonly iptables?: IptablesDump;
  /** `iptables-legacy-save`, when the node has legacy tables beside nf_tables. */
  readonly legacy?: IptablesDump;
}

/** A node's netfilter evidence beyond iptables-save.txt, as a bundle gives it (collect/read-node-nft.ts). */
export interface NodeHostEvidence {
  /** Present when nft-ruleset.json was read: the trace is whole-host. */
  readonly nft?: HostEvidence["nft"];
  /** iptables-legacy-save.txt when it holds tables. */
  readonly legacy?: IptablesDump;
  /** Tables that could not be looked at, each with why. */
  readonly notRead: readonly string[];
  /**
   * False when the node directory has neither nft-ruleset.json nor nft-ruleset.txt (a bundle from
   * before nftables evidence, or a hand-made one): the node is traced through iptables-save only, as
   * before, and the host-firewall link says it was not checked.
   */
  readonly nftCollected: boolean;
  /** The node's IPv4 addresses from ip-addr.json (empty when not collected). */
  readonly addresses: readonly string[];
  /** The node's IPv4 subnets by interface (`cni0` 10.42.0.1/24), from ip-addr.json. */
  readonly subnets: readonly { readonly ifname: string; readonly cidr: string }[];
}

/** The interface whose subnet holds `ip` (a pod's packets arrive on its bridge, e.g. cni0). */
export function interfaceFor(ev: Pick<NodeHostEvidence, "subnets">, ip: string): string | undefined {
  const n = parseIpv4(ip);
  if (n === undefined) return undefined;
  for (const s of ev.subnets) {
    const c = parseCidr(s.cidr);
    if (c !== undefined && !s.cidr.endsWith("/32") && !s.cidr.endsWith("/0") && inCidr(n, c)) return s.ifname;
  }
  return undefined;
}

/** The typed trace, and what the whole-host walk looked at. */
export interface HostTrace {
  readonly result: TraceResult;
  /** Every table the walk read, as `nft inet firewalld`, `iptables-nft filter`, `iptables-legacy nat`. */
  readonly tables: readonly string[];
  /** Orderings the dumps cannot prove (equal priorities). */
  readonly assumptions: readonly string[];
}

/** iptables' built-in chains: hook and priority (include/uapi/linux/netfilter_ipv4.h NF_IP_PRI_*). */
const PRIORITY: Readonly<Record<TableName, number>> = {
  raw: -300,
  mangle: -150,
  nat: -100,
  filter: 0,
  security: 50,
};
const HOOK_OF: Readonly<Record<string, NftHook>> = {
  PREROUTING: "prerouting",
  INPUT: "input",
  FORWARD: "forward",
  OUTPUT: "output",
  POSTROUTING: "postrouting",
};

/** A stand-in nft table for an iptables table the nft ruleset does not hold (legacy xtables). */
function xtablesTable(rs: Ruleset, name: TableName, handle: number): NftTable | undefined {
  const t = rs.tables.get(name);
  if (t === undefined) return undefined;
  const chains = new Map<string, NftChain>();
  for (const chain of t.chains.values()) {
    const hook = HOOK_OF[chain.name];
    if (hook === undefined || chain.policy === undefined) continue;
    const prio = name === "nat" && (hook === "input" || hook === "postrouting") ? 100 : PRIORITY[name];
    chains.set(chain.name, {
      family: "ip",
      table: name,
      name: chain.name,
      handle: 0,
      base: {
        type: name === "nat" ? "nat" : "filter",
        hook,
        priority: prio,
        policy: chain.policy === "DROP" ? "drop" : "accept",
      },
      rules: [],
    });
  }
  return {
    family: "ip",
    name,
    handle,
    flags: [],
    dormant: false,
    owner: "iptables-nft",
    chains,
    sets: new Map(),
  };
}

const TABLES: readonly TableName[] = ["raw", "mangle", "nat", "filter", "security"];

interface Plan {
  readonly ruleset: NftRuleset;
  readonly delegates: Map<NftTable, { src: IptablesChains; table: TableName }>;
  readonly tables: string[];
  readonly conntrackOn: boolean;
}

function sourceOf(
  dump: IptablesDump,
  backend: IptablesChains["backend"],
  base: Omit<IptablesChains, "index" | "backend">,
) {
  return { ...base, backend, index: buildTraceIndex(dump.ruleset, { eager: false, file: dump.file }) };
}

/** The nft ruleset with the iptables tables it lacks added, and which tables iptables dumps evaluate. */
function plan(ev: HostEvidence, base: Omit<IptablesChains, "index" | "backend">): Plan {
  const delegates: Plan["delegates"] = new Map();
  const extra: NftTable[] = [];
  const tables: string[] = [];
  let conntrackOn = false;
  const ipt = ev.iptables;
  const iptLegacy = ipt?.ruleset.header.backend === "legacy";
  const nftSrc = ipt === undefined || iptLegacy ? undefined : sourceOf(ipt, "iptables-nft", base);
  const seen = new Set<TableName>();
  for (const t of ev.nft.ruleset.tables) {
    const name = t.name as TableName;
    if (t.family === "ip" && t.owner === "iptables-nft" && nftSrc !== undefined && TABLES.includes(name)) {
      if (ipt!.ruleset.tables.has(name)) {
        delegates.set(t, { src: nftSrc, table: name });
        seen.add(name);
        tables.push(`iptables-nft ${name} (${ipt!.file})`);
        continue;
      }
    }
    tables.push(`nft ${t.family} ${t.name}`);
  }
  let handle = -1;
  // iptables-save tables the nft dump lacks (dumps taken at different times): from iptables-save.
  for (const name of TABLES) {
    if (nftSrc === undefined || seen.has(name)) continue;
    const t = xtablesTable(ipt!.ruleset, name, handle--);
    if (t === undefined || t.chains.size === 0) continue;
    extra.push(t);
    delegates.set(t, { src: nftSrc, table: name });
    tables.push(`iptables-nft ${name} (${ipt!.file})`);
  }
  const legacyDumps = [...(iptLegacy ? [ipt!] : []), ...(ev.legacy === undefined ? [] : [ev.legacy])];
  for (const dump of legacyDumps) {
    const src = sourceOf(dump, "legacy", base);
    for (const name of TABLES) {
      const t = xtablesTable(dump.ruleset, name, handle--);
      if (t === undefined || t.chains.size === 0) continue;
      extra.push(t);
      delegates.set(t, { src, table: name });
      tables.push(`iptables-legacy ${name} (${dump.file})`);
      // xtables' conntrack and NAT are on whenever legacy tables hold rules.
      conntrackOn ||= dump.ruleset.tables.get(name)!.chains.size > 0;
    }
  }
  const ruleset =
    extra.length === 0 ? ev.nft.ruleset : { ...ev.nft.ruleset, tables: [...extra, ...ev.nft.ruleset.tables] };
  return { ruleset, delegates, tables, conntrackOn };
}

function flowOf(request: TraceRequest): Flow {
  const p = request.packet;
  return {
    protocol: p.protocol,
    srcIp: p.srcIp,
    ...(p.srcPort === undefined || p.protocol === "icmp" ? {} : { srcPort: p.srcPort }),
    dstIp: p.dstIp,
    ...(p.dstPort === undefined || p.protocol === "icmp" ? {} : { dstPort: p.dstPort }),
    ingress: request.from,
    ...(request.node === undefined ? {} : { node: request.node }),
    ...(request.inInterface === undefined || request.from !== "pod"
      ? {}
      : { inInterface: request.inInterface }),
  };
}

function sentHeaders(flow: Flow): Headers {
  return {
    protocol: flow.protocol,
    src: { kind: "exact", ip: flow.srcIp, ...(flow.srcPort === undefined ? {} : { port: flow.srcPort }) },
    dst: { kind: "exact", ip: flow.dstIp, ...(flow.dstPort === undefined ? {} : { port: flow.dstPort }) },
  };
}

function lastFilter(steps: readonly Step[]): FilterStep | undefined {
  const s = steps[steps.length - 1];
  return s?.kind === "filter" ? s : undefined;
}

/** The disposition of a path; undecided when the steps cannot prove what the walk says. */
function dispositionOf(p: NftHostPath, steps: readonly Step[], localKnown: boolean): Disposition {
  const last = steps[steps.length - 1];
  const ending = last === undefined ? undefined : endingOf(last);
  const by = lastFilter(steps);
  switch (p.disposition) {
    case "local":
    case "forward":
      if (!localKnown)
        return {
          kind: "undecided",
          reason:
            "whether the destination is an address of this node is not known (give --local-ip, or --bundle DIR --node NODE)",
          needs: "node-addresses",
        };
      if (ending !== undefined) break;
      return p.disposition === "local" ? { kind: "delivered-locally" } : { kind: "forwarded" };
    case "drop":
      if (by === undefined || ending !== "dropped") break;
      return { kind: "dropped", by };
    case "reject":
      if (by === undefined || ending !== "rejected") break;
      return {
        kind: "rejected",
        by,
        rejectWith:
          p.rejectWith ?? (by.action.kind === "reject" ? by.action.rejectWith : "icmp-port-unreachable"),
        ...(p.clientError === undefined ? {} : { clientError: p.clientError }),
      };
    case "unknown":
      if (ending !== undefined && ending !== "undecided") break;
      return {
        kind: "undecided",
        reason: p.reason ?? "undecided",
        needs: p.reason?.startsWith("no route") ? "routing-table" : "manual-check",
        ...(last === undefined ? {} : { at: last }),
      };
    default: {
      const never: never = p.disposition;
      throw new TypeError(`Unknown nft disposition ${String(never)}`);
    }
  }
  return {
    kind: "undecided",
    reason: `the whole-host walk ended ${p.disposition} at ${p.hook} but its last step does not show it`,
    needs: "manual-check",
  };
}

/**
 * Traces one packet through the whole host. `request.localIps` are the node's addresses (without
 * them every delivered path is undecided); `routeInterface` names the interface a destination is
 * routed out of (unknown when absent: `oifname` matches are then undecided).
 *
 * @throws {RangeError} When the packet is not IPv4.
 */
export function traceHost(
  evidence: HostEvidence,
  request: TraceRequest,
  options: Pick<NftHostOptions, "routeInterface" | "interfaceAddresses" | "masqueradeAddress"> = {},
): HostTrace {
  const localIps = (request.localIps ?? []).flatMap((ip) => {
    const n = parseIpv4(ip);
    return n === undefined ? [] : [n];
  });
  const steps: DelegateSteps = new Map();
  const p = plan(evidence, { request, localIps, steps });
  const nft = traceNftHost(
    p.ruleset,
    {
      packet: request.packet,
      from: request.from,
      ...(request.inInterface === undefined ? {} : { inInterface: request.inInterface }),
    },
    {
      localIps: request.localIps ?? [],
      ...(options.routeInterface === undefined ? {} : { routeInterface: options.routeInterface }),
      ...(options.interfaceAddresses === undefined ? {} : { interfaceAddresses: options.interfaceAddresses }),
      ...(options.masqueradeAddress === undefined ? {} : { masqueradeAddress: options.masqueradeAddress }),
      ...(p.conntrackOn ? { conntrack: "on" as const } : {}),
      files: evidence.nft.files,
      delegate: (table, chain, st) => {
        const d = p.delegates.get(table);
        return d === undefined
          ? undefined
          : iptablesChainPaths(d.src, { table: d.table, hook: chain.base!.hook }, st);
      },
    },
  );
  const flow = flowOf(request);
  const sent = sentHeaders(flow);
  const traces: Trace[] = nft.paths.map((path) => {
    const { steps: typed } = nftPathSteps(path.steps, sent, steps);
    const dst = addressOf(path.destination, undefined);
    const src =
      path.source === undefined ? { kind: "out-interface" as const } : addressOf(path.source, undefined);
    return {
      probability: path.probability,
      disposition: dispositionOf(path, typed, localIps.length > 0),
      headers: { protocol: flow.protocol, src, dst },
      hops: [
        {
          ...(request.node === undefined ? {} : { node: request.node }),
          steps: typed,
          ...(path.mark === "0x0" ? {} : { mark: path.mark }),
        },
      ],
    };
  });
  return { result: traceResult(flow, traces), tables: p.tables, assumptions: nft.assumptions };
}

/**
 * iptables-nft says legacy tables exist (`# Warning: iptables-legacy tables present`) but no
 * iptables-legacy-save.txt was read: those tables may act and were not looked at.
 */
export function legacyNotRead(
  iptables: Ruleset | undefined,
  ev: Pick<NodeHostEvidence, "legacy">,
  node: string,
): string[] {
  if (ev.legacy !== undefined || iptables === undefined) return [];
  const notice = iptables.warnings.find(
    (w) => w.kind === "notice" && /iptables-legacy tables present/.test(w.text),
  );
  return notice === undefined
    ? []
    : [
        `legacy xtables tables (iptables-save.txt line ${notice.line} says they exist; nodes/${node}/iptables-legacy-save.txt is missing)`,
      ];
}
