/** What `tracePacket` (trace-packet.ts) is asked: the packet and its entry, and how the node is set up. */
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { IpvsTable } from "../ipvs/ipvs-model.ts";
import type { Ingress, Packet } from "../model/flow.ts";
import type { TraceIndex } from "./trace-index.ts";

/**
 * An IPVS-mode node (its iptables glue shows it) whose IPVS table was not collected: a packet for
 * the node itself may be a virtual server's, so where it goes is undecided (`ipvs-table`).
 */
export interface IpvsNotCollected {
  /** The file that would decide it (`nodes/NODE/ipvsadm.txt`). */
  readonly missing: string;
  /** Why the node is in IPVS mode (`nodes/NODE/iptables-save.txt:52 matches KUBE-CLUSTER-IP`). */
  readonly mode: string;
}

/** What to trace: the packet, where it enters, and what the node looks like. */
export interface TraceRequest {
  readonly packet: Packet;
  readonly from: Ingress;
  /**
   * The node's own addresses, taken as complete: they decide routing (local delivery or forward)
   * and `addrtype LOCAL`. Without them, a path whose routing needs them ends undecided.
   */
  readonly localIps?: readonly string[];
  /** The interface a `pod` packet arrives on (for `-i`); unknown when absent. */
  readonly inInterface?: string;
  /** The interface the packet leaves by (for `-o`); unknown when absent. */
  readonly outInterface?: string;
  /** The node's name, recorded in the flow and its hop. */
  readonly node?: string;
  /**
   * The packet is the reply of a connection whose request the node saw (conntrack ESTABLISHED,
   * direction REPLY): the path evaluator's reply direction. Default: the first packet (NEW).
   */
  readonly reply?: boolean;
}

export interface TraceOptions {
  /** A prebuilt `buildTraceIndex` for this ruleset, to share across many traces. */
  readonly index?: TraceIndex;
  /** The dump's file name for the steps' evidence, when no `index` is given (default `dump`). */
  readonly file?: string;
  /** The out-interface for a destination after rewrites (overrides `outInterface`). */
  readonly routeInterface?: (dstIp: string) => string | undefined;
  /**
   * Whether the packet crossed a Linux bridge (decides `-m physdev`); unknown by default. `true`:
   * bridged between two ports of one bridge; `false`: it crossed no bridge at all. Given, it is
   * taken as is; without it a FORWARD packet between two different interfaces is routed, never
   * bridged, and `bridgedBetween` decides the rest (match-physdev.ts).
   */
  readonly bridged?: boolean;
  /**
   * Whether a packet in by `inIf` and out by `outIf` is bridged, proven from the node's links
   * (the bridge, its ports, br_netfilter); undefined when the evidence cannot tell.
   */
  readonly bridgedBetween?: (inIf: string, outIf: string) => boolean | undefined;
  /** `fresh` evaluates `statistic --mode nth` as on a just-loaded ruleset (default: unknown). */
  readonly nthCounters?: "fresh" | "unknown";
  /**
   * The node's `ipset save` (parseIpsetSave), for `-m set --match-set`: without it those rules are
   * undecided (needs `ipset-members`).
   */
  readonly ipsets?: IpsetSave;
  /**
   * The node's IPVS table (`ipvsadm -Sn`, parseIpvsadm; kube-proxy's IPVS mode): a packet for a
   * virtual service is scheduled to its real servers, one path each (ipvs-stage.ts). Without it a
   * node's IPVS is not seen: give it for an IPVS-mode node (the destination then must be one of the
   * node's addresses, kube-ipvs0's, for the packet to reach IPVS).
   */
  readonly ipvs?: IpvsTable | IpvsNotCollected;
  /** Stop forking after this many paths (default 4096); the rest becomes one undecided path. */
  readonly maxPaths?: number;
}
