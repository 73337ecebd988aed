/**
 * One connection's first packet through a node's nftables ruleset, hook after hook, with the routing
 * decisions between them: from a pod (ingress on its veth, prerouting, then input or forward and
 * postrouting) or from the node itself (output, postrouting, and back in over loopback for a local
 * destination). Only native nftables evaluation: the whole-host tracer combines this with the
 * iptables evaluation of iptables-nft and legacy tables (see docs/nftables.md).
 *
 * @example
 * ```ts
 * const r = traceNftHost(ruleset, { packet: { protocol: "tcp", srcIp: "10.42.0.5", srcPort: 40000,
 *   dstIp: "10.43.0.10", dstPort: 53 }, from: "pod", inInterface: "veth1" },
 *   { localIps: ["192.168.1.10"], files: { json: "nodes/n1/nft-ruleset.json" } });
 * r.paths[0]?.disposition; // "forward", destination "10.42.1.7:53"
 * ```
 */
import { formatIpv4, parseIpv4 } from "../net/ipv4.ts";
import { conntrackInUse } from "./conntrack-in-use.ts";
import type { ChainContext, EvidenceFiles } from "./eval-chain.ts";
import { evalHook, type HookPath, planHook, type TieOrder } from "./eval-hook.ts";
import {
  destinationText,
  initialState,
  type NftCtState,
  type NftPacket,
  type NftStep,
  type PacketState,
  sourceText,
  UNKNOWN_IF,
} from "./nft-packet.ts";
import type { NftHook, NftRuleset } from "./nft-ruleset.ts";
import { nftRejectEffect } from "./reject-effect.ts";

export interface NftHostRequest {
  readonly packet: NftPacket;
  /** `pod`: the packet arrives on `inInterface`; `host`: a process on the node sends it. */
  readonly from: "pod" | "host";
  readonly inInterface?: string;
  readonly ctState?: NftCtState;
  readonly mark?: number;
}

export interface NftHostOptions {
  /** The node's own IPv4 addresses (what is delivered locally, `fib ... type local`). */
  readonly localIps: readonly string[];
  /** The interface the node routes an address out of; undefined: no route. Absent: unknown. */
  readonly routeInterface?: (ip: string) => string | undefined;
  readonly interfaceAddresses?: (ifname: string) => readonly string[] | undefined;
  readonly masqueradeAddress?: (oif: string) => string | undefined;
  /**
   * Whether conntrack runs in the node's namespace. `auto` (default): when the nft ruleset needs it
   * (see conntrack-in-use.ts); say `on` when something outside the ruleset (iptables-legacy rules)
   * enables it.
   */
  readonly conntrack?: "auto" | "on" | "off";
  readonly files: EvidenceFiles;
  /** Base chains evaluated from other evidence (see ChainContext.delegate in eval-chain.ts). */
  readonly delegate?: ChainContext["delegate"];
  /** The order of chains that share a priority (default newest-first, the kernel's). */
  readonly ties?: TieOrder;
}

/** Same names as the iptables tracer's dispositions (src/model/trace.ts). */
export type NftDisposition = "forward" | "local" | "drop" | "reject" | "unknown";

export interface NftHostPath {
  readonly probability: number;
  readonly disposition: NftDisposition;
  /** Destination after rewrites, `ip:port`. */
  readonly destination: string;
  /** Source after rewrites; absent when masquerade chose an address netdoctor was not told. */
  readonly source?: string;
  readonly masquerade: boolean;
  /** Final packet mark, hex. */
  readonly mark: string;
  /** The hook where the path ended (drop, reject, undecided) or the last one it passed. */
  readonly hook: NftHook;
  readonly rejectWith?: string;
  readonly clientError?: string;
  /** Always set for `unknown`. */
  readonly reason?: string;
  readonly steps: readonly NftStep[];
}

export interface NftHostTrace {
  readonly paths: readonly NftHostPath[];
  /** Orderings the dump cannot prove (equal priorities at a hook). */
  readonly assumptions: readonly string[];
}

class HostWalk {
  readonly paths: NftHostPath[] = [];
  readonly assumptions = new Set<string>();
  readonly local: Set<number>;
  /** False when no conntrack runs in the namespace: no ct state, no NAT. */
  tracking = true;

  constructor(
    readonly ruleset: NftRuleset,
    readonly request: NftHostRequest,
    readonly options: NftHostOptions,
    readonly ctx: ChainContext,
  ) {
    this.local = ctx.localIps as Set<number>;
  }

  isLocal(ip: number): boolean {
    return this.local.has(ip) || ip >>> 24 === 127;
  }

  route(st: PacketState): string | undefined | null {
    if (this.isLocal(st.dst)) return "lo";
    if (this.options.routeInterface === undefined) return UNKNOWN_IF;
    return this.options.routeInterface(formatIpv4(st.dst)) ?? null;
  }

  end(st: PacketState, hook: NftHook, disposition: NftDisposition, extra: Partial<NftHostPath> = {}): void {
    this.paths.push({
      probability: st.probability,
      disposition,
      destination: destinationText(st),
      ...(st.masquerade ? {} : { source: sourceText(st) }),
      masquerade: st.masquerade,
      mark: `0x${st.mark.toString(16)}`,
      hook,
      steps: st.steps,
      ...extra,
    });
  }

  /** Runs a hook; returns the accepted states, records the decided paths. */
  hook(hook: NftHook, states: PacketState[], conntrack: "before" | "attached", dev?: string): PacketState[] {
    if (!this.tracking) conntrack = "attached";
    const plan = planHook(this.ruleset, hook, dev, this.options.ties);
    for (const a of plan.assumptions) this.assumptions.add(a);
    if (plan.entries.length === 0) return states;
    const out: PacketState[] = [];
    for (const st of states) {
      for (const p of evalHook(plan, st, this.ctx, { conntrack })) {
        if (p.outcome === "accept") out.push(p.state);
        else this.decided(hook, p);
      }
    }
    return out;
  }

  decided(hook: NftHook, p: HookPath): void {
    if (p.outcome === "drop") this.end(p.state, hook, "drop");
    else if (p.outcome === "undecided")
      this.end(p.state, hook, "unknown", { reason: p.reason ?? "undecided" });
    else if (p.outcome === "reject") {
      const eff = nftRejectEffect(p.reject!.type, p.reject!.code);
      if (eff === undefined) {
        this.end(p.state, hook, "unknown", {
          reason: `reject with ${p.reject!.type} ${p.reject!.code} is not modelled`,
        });
        return;
      }
      const err = this.request.packet.protocol === "udp" ? eff.udpError : eff.tcpError;
      this.end(p.state, hook, "reject", {
        rejectWith: eff.rejectWith,
        ...(err === undefined ? {} : { clientError: err }),
      });
    }
  }

  /** Ingress/egress chains run without conntrack. */
  device(hook: "ingress" | "egress", states: PacketState[], dev: string | undefined): PacketState[] {
    const out: PacketState[] = [];
    for (const st of states) {
      const saved = st.ct;
      st.ct = hook === "ingress" ? "none" : saved;
      for (const s of this.hook(hook, [st], "attached", dev)) {
        s.ct = saved;
        out.push(s);
      }
    }
    return out;
  }

  deliver(states: PacketState[], iif: string): void {
    for (const st of states) {
      st.iif = iif;
      st.oif = undefined;
    }
    for (const st of this.hook("input", states, "attached")) this.end(st, "input", "local");
  }

  /** Postrouting, then egress on the output device: the states that leave by it. */
  out(states: PacketState[]): PacketState[] {
    const left: PacketState[] = [];
    for (const st of this.hook("postrouting", states, "attached"))
      left.push(...this.device("egress", [st], st.oif));
    return left;
  }

  leave(states: PacketState[]): void {
    const routed: PacketState[] = [];
    for (const st of states) {
      const oif = this.route(st);
      if (oif === null)
        this.end(st, "postrouting", "unknown", { reason: `no route to ${formatIpv4(st.dst)} known` });
      else {
        st.oif = oif;
        routed.push(st);
      }
    }
    for (const st of this.out(routed)) this.end(st, "postrouting", "forward");
  }

  fromPod(st: PacketState): void {
    const iif = this.request.inInterface ?? UNKNOWN_IF;
    st.iif = iif;
    st.oif = undefined;
    const pre = this.hook("prerouting", this.device("ingress", [st], iif), "before");
    const local = pre.filter((s) => this.isLocal(s.dst));
    this.deliver(local, iif);
    const fwd: PacketState[] = [];
    for (const s of pre.filter((x) => !this.isLocal(x.dst))) {
      const oif = this.route(s);
      if (oif === null)
        this.end(s, "prerouting", "unknown", { reason: `no route to ${formatIpv4(s.dst)} known` });
      else {
        s.oif = oif;
        fwd.push(s);
      }
    }
    const forwarded = this.hook("forward", fwd, "attached");
    // postrouting of a forwarded packet still knows its input device (ip_output passes skb->dev).
    this.leave(forwarded);
  }

  fromHost(st: PacketState): void {
    st.iif = undefined;
    const first = this.route(st);
    if (first === null) {
      this.end(st, "output", "unknown", { reason: `no route to ${formatIpv4(st.dst)} known` });
      return;
    }
    st.oif = first;
    const out = this.hook("output", [st], "before");
    // Rerouted after a DNAT at output; postrouting sees the new route and, for the node's own
    // packet, no input device (`iifname` reads "", `iif` does not match; kernel-verified).
    for (const s of out) s.iif = undefined;
    const local = out.filter((s) => this.isLocal(s.dst));
    this.leave(out.filter((s) => !this.isLocal(s.dst)));
    for (const s of local) s.oif = "lo";
    const looped = this.out(local);
    // Over loopback the packet comes in again: ingress on lo, prerouting with iif lo; the connection
    // already has its NAT binding (set at output), so NAT chains do not run again.
    for (const s of looped) {
      s.iif = "lo";
      s.oif = undefined;
    }
    const pre = this.hook("prerouting", this.device("ingress", looped, "lo"), "attached");
    this.deliver(pre, "lo");
  }
}

/** Every path of the request's packet through `ruleset` (probabilities add up to 1). */
export function traceNftHost(
  ruleset: NftRuleset,
  request: NftHostRequest,
  options: NftHostOptions,
): NftHostTrace {
  const localIps = new Set<number>();
  for (const ip of options.localIps) {
    const n = parseIpv4(ip);
    if (n !== undefined) localIps.add(n);
  }
  const ctx: ChainContext = {
    localIps,
    ...(options.routeInterface === undefined ? {} : { routeInterface: options.routeInterface }),
    ...(options.interfaceAddresses === undefined ? {} : { interfaceAddresses: options.interfaceAddresses }),
    ...(options.masqueradeAddress === undefined ? {} : { masqueradeAddress: options.masqueradeAddress }),
    ...(options.delegate === undefined ? {} : { delegate: options.delegate }),
    files: options.files,
  };
  const walk = new HostWalk(ruleset, request, options, ctx);
  const st = initialState(request.packet, request.ctState ?? "new", request.mark ?? 0);
  const mode = options.conntrack ?? "auto";
  if (mode === "off" || (mode === "auto" && !conntrackInUse(ruleset))) {
    walk.tracking = false;
    st.ct = "none";
  }
  if (request.from === "pod") walk.fromPod(st);
  else walk.fromHost(st);
  return { paths: walk.paths, assumptions: [...walk.assumptions] };
}
