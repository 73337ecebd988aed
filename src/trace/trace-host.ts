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
import { endingOf, type Trace, type TraceResult, traceResult } from "../model/trace.ts";
import type { FilterStep, Step } from "../model/trace-step.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { type NftHostOptions, type NftHostPath, traceNftHost } from "../nft/trace-nft-host.ts";
import type { HostEvidence } from "./host-evidence.ts";
import { plan } from "./host-tables.ts";
import { type DelegateSteps, iptablesChainPaths } from "./iptables-delegate.ts";
import { addressOf, nftPathSteps } from "./nft-trace-steps.ts";
import type { TraceOptions, TraceRequest } from "./trace-request.ts";

export {
  type HostEvidence,
  type IptablesDump,
  interfaceFor,
  legacyNotRead,
  type NodeHostEvidence,
} from "./host-evidence.ts";

/** The typed trace, and what the whole-host walk looked at. */
export interface HostTrace {
  readonly result: TraceResult;
  /** Every table the walk read, as `nft inet firewalld`, `iptables-nft filter`, `iptables-legacy nat`. */
  readonly tables: readonly string[];
  /** Orderings the dumps cannot prove (equal priorities). */
  readonly assumptions: readonly string[];
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

/** A trace's outcomes, order-free: disposition, rewritten addresses and probability of each path. */
function outcomes(paths: readonly NftHostPath[]): string {
  return paths
    .map((p) => `${p.disposition} ${p.destination} ${p.source ?? "?"} ${p.probability.toFixed(6)}`)
    .sort()
    .join("\n");
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
  options: Pick<NftHostOptions, "routeInterface" | "interfaceAddresses" | "masqueradeAddress"> & {
    /** ipsets and bridge crossing for the iptables chains' `-m set` / `-m physdev` rules. */
    readonly iptables?: Pick<TraceOptions, "ipsets" | "bridged">;
  } = {},
): HostTrace {
  const localIps = (request.localIps ?? []).flatMap((ip) => {
    const n = parseIpv4(ip);
    return n === undefined ? [] : [n];
  });
  const steps: DelegateSteps = new Map();
  const p = plan(evidence, {
    request,
    localIps,
    steps,
    ...(options.iptables === undefined ? {} : { extras: options.iptables }),
  });
  const run = (ties: "newest-first" | "oldest-first") =>
    traceNftHost(
      p.ruleset,
      {
        packet: request.packet,
        from: request.from,
        ...(request.inInterface === undefined ? {} : { inInterface: request.inInterface }),
      },
      {
        ties,
        localIps: request.localIps ?? [],
        ...(options.routeInterface === undefined ? {} : { routeInterface: options.routeInterface }),
        ...(options.interfaceAddresses === undefined
          ? {}
          : { interfaceAddresses: options.interfaceAddresses }),
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
  const nft = run("newest-first");
  // Chains that share a priority run in reverse registration order, which no dump shows: when the
  // other order gives another outcome (a legacy and an iptables-nft nat table both DNATing at
  // -100), the outcome is not proven.
  const tieDecides =
    nft.assumptions.length > 0 && outcomes(run("oldest-first").paths) !== outcomes(nft.paths);
  const flow = flowOf(request);
  const sent = sentHeaders(flow);
  const traces: Trace[] = nft.paths.map((path) => {
    const { steps: typed } = nftPathSteps(path.steps, sent, steps);
    const dst = addressOf(path.destination, undefined);
    const src =
      path.source === undefined ? { kind: "out-interface" as const } : addressOf(path.source, undefined);
    return {
      probability: path.probability,
      disposition: tieDecides
        ? {
            kind: "undecided" as const,
            reason: `the outcome depends on the order of chains that share a priority, which the dumps do not show (${nft.assumptions.join("; ")})`,
            needs: "manual-check" as const,
          }
        : dispositionOf(path, typed, localIps.length > 0),
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
