/**
 * The client node seen whole (issue 15): kube-proxy's nftables mode reconciled from nft-ruleset.json
 * instead of being undecided, and the packet traced through every table at each hook when the
 * node's nft ruleset was collected (the iptables trace otherwise).
 */
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import { reconcileKubeProxyNft } from "../kube-proxy/nftables/reconcile-nft.ts";
import type { ReconcileResult } from "../kube-proxy/reconcile-node.ts";
import type { Ruleset } from "../model/ruleset.ts";
import type { TraceResult } from "../model/trace.ts";
import type { PodIpLookup } from "../net/pod-ip-lookup.ts";
import { hostRouting } from "../trace/host-routing.ts";
import { interfaceFor, legacyNotRead, type NodeHostEvidence, traceHost } from "../trace/trace-host.ts";
import { sharedTraceIndex } from "../trace/trace-index.ts";
import { type TraceOptions, tracePacket } from "../trace/trace-packet.ts";
import type { TraceRequest } from "../trace/trace-request.ts";
import type { HostFacts } from "./host-facts.ts";

/** Who owns an IP now, `pod ns/name on node`, for messages about stale targets. */
export function ipOwner(lookup: PodIpLookup): (ip: string) => string | undefined {
  return (ip) => {
    const o = lookup.lookup(ip);
    return o === undefined ? undefined : `pod ${o.pod}${o.node === undefined ? "" : ` on ${o.node}`}`;
  };
}

type Reconciled = ReconcileResult & { readonly undecided?: string };

/**
 * When the node runs kube-proxy in nftables mode and its nft ruleset was read: the nftables
 * reconciliation's findings (handle evidence) replace the iptables one's "undecided"; only the dump
 * integrity findings of the iptables side are kept, never iptables-mode Service findings.
 */
export function withNftMode(
  r: Reconciled,
  host: NodeHostEvidence | undefined,
  input: {
    /** Every Service port's expected state, asked for only when the node runs nftables mode. */
    readonly ports: () => readonly ExpectedServicePort[];
    readonly node: string;
    readonly ownerOfIp?: (ip: string) => string | undefined;
  },
): Reconciled {
  if (r.mode !== "nftables" || host?.nft === undefined) return r;
  const nft = reconcileKubeProxyNft(input.ports(), host.nft.ruleset, {
    node: input.node,
    files: host.nft.files,
    mode: r.modeEvidence,
    ...(input.ownerOfIp === undefined ? {} : { ownerOfIp: input.ownerOfIp }),
  });
  const { undecided: _iptablesOnly, ...rest } = r;
  return { ...rest, findings: [...r.findings, ...nft.findings] };
}

/** The client's trace on its node, and what the whole-host walk read. */
export function traceClientNode(
  input: {
    readonly ruleset: Ruleset | undefined;
    readonly file: string;
    readonly host: NodeHostEvidence | undefined;
    readonly node: string;
    /** ipsets and bridge crossing for `-m set` / `-m physdev` (the iptables-only trace uses them). */
    readonly extras?: Pick<TraceOptions, "ipsets" | "bridged">;
  },
  request: TraceRequest,
  /** The interface a destination is routed out of (whole-host trace; unknown when absent). */
  options: Pick<NonNullable<Parameters<typeof traceHost>[2]>, "routeInterface"> = {},
): { trace: TraceResult; host?: HostFacts } {
  const h = input.host;
  if (h?.nft === undefined) {
    if (input.ruleset === undefined) throw new TypeError(`Cannot trace on ${input.node}: no rules were read`);
    // The index the host path's traces of this node use too: its long chains are indexed once.
    const index = sharedTraceIndex(input.ruleset, input.file);
    const trace = tracePacket(input.ruleset, request, { file: input.file, index, ...input.extras });
    const host = untracedHost(h, input.ruleset, input.node);
    return host === undefined ? { trace } : { trace, host };
  }
  const notRead = [...h.notRead, ...legacyNotRead(input.ruleset, h, input.node), ...xtNotRead(input, h)];
  const inInterface =
    request.inInterface ?? (request.from === "pod" ? interfaceFor(h, request.packet.srcIp) : undefined);
  // The node's FIB, when collected: local addresses and the device a destination leaves by.
  const fib =
    h.routing === undefined
      ? undefined
      : hostRouting(h.routing, inInterface === undefined || request.from !== "pod" ? {} : { inInterface });
  const localIps = [...new Set([...(request.localIps ?? []), ...h.addresses, ...(fib?.localIps ?? [])])];
  const routeInterface = options.routeInterface ?? fib?.routeInterface;
  const r = traceHost(
    {
      nft: h.nft,
      ...(input.ruleset === undefined ? {} : { iptables: { ruleset: input.ruleset, file: input.file } }),
      ...(h.legacy === undefined ? {} : { legacy: h.legacy }),
    },
    {
      ...request,
      ...(localIps.length === 0 ? {} : { localIps }),
      ...(inInterface === undefined ? {} : { inInterface }),
    },
    {
      ...(routeInterface === undefined ? {} : { routeInterface }),
      ...(input.extras === undefined ? {} : { iptables: input.extras }),
    },
  );
  return {
    trace: r.result,
    host: { wholeHost: true, nftCollected: true, tables: r.tables, notRead, assumptions: r.assumptions },
  };
}

/**
 * iptables-nft's tables without the node's iptables-save: nft shows their untranslatable matches
 * only as opaque `xt` statements, so the walk cannot evaluate them (the same dump the
 * node-dataplane link asks for).
 */
function xtNotRead(
  input: { readonly ruleset: Ruleset | undefined; readonly file: string },
  h: NodeHostEvidence,
) {
  if (input.ruleset !== undefined || h.nft === undefined) return [];
  const t = h.nft.ruleset.tables
    .filter((x) => x.owner === "iptables-nft")
    .map((x) => `${x.family} ${x.name}`);
  return t.length === 0
    ? []
    : [
        `iptables-nft tables ${t.join(", ")} (${input.file} is missing: nft shows their matches only as xt statements)`,
      ];
}

/** What the link reads about a node whose packet was not traced: what was collected and not read. */
export function untracedHost(
  host: NodeHostEvidence | undefined,
  ruleset: Ruleset | undefined,
  node: string,
): HostFacts | undefined {
  if (host === undefined) return undefined;
  const notRead = [...host.notRead, ...legacyNotRead(ruleset, host, node)];
  return { wholeHost: false, nftCollected: host.nftCollected, tables: [], notRead, assumptions: [] };
}
