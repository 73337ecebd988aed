/**
 * The host firewalls of the nodes a question's packet reaches after its client's node (issue 15):
 * the multi-hop trace judges their iptables rules (the endpoint-node link), but a native nftables
 * table there — firewalld's `inet firewalld` on the endpoint's node, a hand-written `inet filter` —
 * is invisible to iptables-save. Each such node's packet, as it arrives (from the overlay device,
 * with the headers it is delivered with), goes through every table at each hook like the client's.
 * Without that node's nft ruleset nothing past its iptables is proven (the host-firewall link says
 * undecided).
 */
import type { Headers } from "../model/flow.ts";
import type { Hop, Packet, TraceResult } from "../model/trace.ts";
import { UNKNOWN_IF } from "../nft/nft-packet.ts";
import type { NodeHostEvidence } from "../trace/trace-host.ts";
import type { HostFacts } from "./host-facts.ts";
import { traceClientNode, untracedHost } from "./host-node.ts";
import type { WalkContext } from "./link.ts";

/** One node past the client's, as the host-firewall link judges it. */
export interface PathNodeFirewall {
  readonly node: string;
  /** What its whole-host walk read; `nftCollected` false when the bundle has no nft ruleset for it. */
  readonly host: HostFacts;
  /** The arriving packet through every table at each hook (absent when it could not be traced). */
  readonly trace?: TraceResult;
  readonly traceError?: string;
}

interface Arrival {
  readonly node: string;
  readonly packet: Packet;
  /** The device the packet arrives on (the overlay device it is decapsulated from). */
  readonly inInterface?: string;
  /** The device the node routes it out of (the pod's bridge), when the hop shows it. */
  readonly outInterface?: string;
}

function packetOf(h: Headers): Packet | undefined {
  if (h.src.kind !== "exact" || h.dst.kind !== "exact") return undefined;
  return {
    protocol: h.protocol,
    srcIp: h.src.ip,
    ...(h.src.port === undefined ? {} : { srcPort: h.src.port }),
    dstIp: h.dst.ip,
    ...(h.dst.port === undefined ? {} : { dstPort: h.dst.port }),
  };
}

function arrivalOf(hop: Hop, headers: Headers): Arrival | undefined {
  const packet = packetOf(headers);
  if (hop.node === undefined || packet === undefined) return undefined;
  let inInterface: string | undefined;
  let outInterface: string | undefined;
  for (const s of hop.steps) {
    if (s.kind === "overlay" && s.direction === "decapsulate") inInterface ??= s.device;
    if (s.kind === "routing" && s.outInterface !== undefined) outInterface ??= s.outInterface;
  }
  return {
    node: hop.node,
    packet,
    ...(inInterface === undefined ? {} : { inInterface }),
    ...(outInterface === undefined ? {} : { outInterface }),
  };
}

/**
 * The nodes past the client's that the request reaches in `path` (first path that reaches each),
 * with the packet as it is delivered there (no rewrite happens past the client node's NAT on a
 * flannel path: the endpoint's node forwards the pod-to-pod packet unchanged).
 */
export function pathArrivals(path: TraceResult | undefined, client: string): Arrival[] {
  const seen = new Map<string, Arrival>();
  for (const t of path?.traces ?? []) {
    for (const hop of t.hops) {
      if (hop.direction === "reply" || hop.node === undefined || hop.node === client || seen.has(hop.node))
        continue;
      const a = arrivalOf(hop, t.headers);
      if (a !== undefined) seen.set(a.node, a);
    }
  }
  return [...seen.values()];
}

/** Traces each node past the client's that the question's packet reaches. */
export function pathNodeFirewalls(ctx: WalkContext, path: TraceResult | undefined): PathNodeFirewall[] {
  const client = ctx.node?.node ?? ctx.question.client.nodeName ?? "";
  return pathArrivals(path, client).map((a) => nodeFirewall(ctx, a));
}

function nodeFirewall(ctx: WalkContext, a: Arrival): PathNodeFirewall {
  const ruleset = ctx.hostPathInput?.rulesets.get(a.node);
  const ev: NodeHostEvidence | undefined = ctx.pathHosts?.get(a.node);
  const none: HostFacts = untracedHost(ev, ruleset, a.node) ?? {
    wholeHost: false,
    nftCollected: false,
    tables: [],
    notRead: [],
    assumptions: [],
  };
  if (ev?.nft === undefined) return { node: a.node, host: none };
  try {
    const out = a.outInterface;
    // The node's ipsets (read with its rules by the multi-hop walk) decide kube-router's `-m set`.
    const ipsets = ctx.hostPathInput?.ipsets.get(a.node);
    const r = traceClientNode(
      {
        ruleset,
        host: ev,
        file: `nodes/${a.node}/iptables-save.txt`,
        node: a.node,
        ...(ipsets === undefined ? {} : { extras: { ipsets } }),
      },
      {
        packet: a.packet,
        from: "pod",
        node: a.node,
        ...(ev.addresses.length === 0 ? {} : { localIps: ev.addresses }),
        ...(a.inInterface === undefined ? {} : { inInterface: a.inInterface }),
      },
      // The node's own FIB decides when ip-route.json was read (host-node.ts); otherwise the device
      // the multi-hop trace routed the packet to, and unknown for any other address.
      out === undefined || ev.routing !== undefined
        ? {}
        : { routeInterface: (ip) => (ip === a.packet.dstIp ? out : UNKNOWN_IF) },
    );
    return { node: a.node, host: r.host ?? none, trace: r.trace };
  } catch (error) {
    return { node: a.node, host: none, traceError: error instanceof Error ? error.message : String(error) };
  }
}
