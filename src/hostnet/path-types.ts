/**
 * The typed result of evaluating a packet's path across nodes from host evidence: per node a hop
 * with its steps (`routing`, `neighbor`, `overlay`, `deliver`, plus `filter` answers from the
 * iptables tracer and `conntrack` for a flow that already has an entry) and a disposition. These
 * map one to one onto the multi-hop trace model's step kinds.
 */
import type { Evidence } from "../model/finding.ts";
import type { Packet } from "../model/trace.ts";
import type { RouteDecision } from "./route-lookup.ts";

/** How a neighbour (ARP) lookup ends. */
export type NeighborOutcome =
  /** An entry gives the MAC (`static` for PERMANENT entries such as flannel's). */
  | { readonly kind: "resolved"; readonly lladdr: string; readonly static: boolean }
  /** The entry is FAILED or INCOMPLETE: ARP got no answer; the kernel reports EHOSTUNREACH. */
  | { readonly kind: "failed" }
  /** No entry on a VXLAN device without a flood (all-zero) FDB entry: the ARP request goes nowhere. */
  | { readonly kind: "nothing-answers"; readonly reason: string }
  /** No entry, but a running pod of this node owns the address on the bridge and will answer. */
  | { readonly kind: "pod-answers"; readonly pod: string }
  /** No entry, but another node of the bundle holds the address on a link (assumed same L2). */
  | { readonly kind: "node-answers"; readonly node: string }
  /** The device does no ARP (`NOARP`: lo, wireguard, ipip): no neighbour is needed. */
  | { readonly kind: "not-needed" }
  /** The evidence cannot tell (e.g. an underlay gateway that is no node of the bundle). */
  | { readonly kind: "unknown"; readonly reason: string };

/** What the iptables side said about a packet at a hook (from the injected filter). */
export interface FilterVerdict {
  readonly verdict: "accept" | "drop" | "reject" | "unknown";
  /** For reject: the errno the client sees. */
  readonly clientError?: string;
  /** Words for the step, e.g. `filter/FORWARD policy DROP`. */
  readonly action: string;
  readonly evidence: readonly Evidence[];
}

/** The question put to the iptables side (the tracer) at a hook of one node. */
export interface FilterQuery {
  readonly node: string;
  readonly hook: "forward" | "input" | "output";
  readonly packet: Packet;
  readonly inInterface?: string;
  readonly outInterface?: string;
  /** True for the reply direction of a connection (conntrack ESTABLISHED). */
  readonly reply: boolean;
}

/** One step on one node. */
export type HostStep =
  | {
      readonly kind: "routing";
      readonly node: string;
      readonly decision: RouteDecision["kind"] | "forwarding-disabled" | "rp-filter-drop";
      readonly action: string;
      readonly evidence: readonly Evidence[];
    }
  | {
      readonly kind: "neighbor";
      readonly node: string;
      readonly device: string;
      readonly ip: string;
      readonly outcome: NeighborOutcome;
      readonly action: string;
      readonly evidence: readonly Evidence[];
    }
  | {
      readonly kind: "overlay";
      readonly node: string;
      readonly direction: "encapsulate" | "decapsulate";
      readonly device: string;
      readonly vni?: number;
      /** The outer (underlay) packet: UDP from the local VTEP to the remote one. */
      readonly outer?: Packet;
      readonly innerDstMac?: string;
      readonly action: string;
      readonly evidence: readonly Evidence[];
    }
  | {
      readonly kind: "deliver";
      readonly node: string;
      readonly device?: string;
      /** `namespace/name` of the pod that owns the destination (absent for the node itself). */
      readonly pod?: string;
      readonly action: string;
      readonly evidence: readonly Evidence[];
    }
  | {
      readonly kind: "filter";
      readonly node: string;
      readonly hook: FilterQuery["hook"];
      readonly verdict: FilterVerdict["verdict"];
      readonly action: string;
      readonly evidence: readonly Evidence[];
    }
  | {
      readonly kind: "conntrack";
      readonly node: string;
      readonly action: string;
      readonly evidence: readonly Evidence[];
    };

/** What happened to the packet on one node. */
export type HopDisposition =
  /** Encapsulated to node `next` over the overlay. */
  | "forwarded-overlay"
  /** Routed to node `next` over the underlay (host-gw / DirectRouting). */
  | "forwarded-underlay"
  /** Left the cluster's nodes (default route to a router that is not in the bundle). */
  | "exits-cluster"
  /** Handed to the destination pod on this node. */
  | "delivered"
  /** For this node itself (its INPUT accepted it). */
  | "delivered-locally"
  | "no-route"
  | "neighbor-unreachable"
  | "dropped"
  | "rejected"
  /** The evidence cannot decide (the hop's `reason` and the path's `missing` say why). */
  | "undecided";

/** One node's part of the path. */
export interface Hop {
  readonly node: string;
  /** Interface the packet came in by (absent when the node originated it). */
  readonly inInterface?: string;
  readonly outInterface?: string;
  readonly steps: readonly HostStep[];
  readonly disposition: HopDisposition;
  /** The next node for the forwarded dispositions. */
  readonly next?: string;
  readonly reason?: string;
}

/** The end of a path as a client would see it. */
export type PathOutcome = "delivered" | "timeout" | "error" | "unknown";

/** One direction of a connection. */
export interface PathResult {
  readonly packet: Packet;
  readonly hops: readonly Hop[];
  readonly outcome: PathOutcome;
  /** For `error`: ENETUNREACH, EHOSTUNREACH, ECONNREFUSED... */
  readonly clientError?: string;
  /** Why, in one sentence; always set unless delivered. */
  readonly reason?: string;
  /** Evidence files that were missing and would have decided an `unknown`. */
  readonly missing?: readonly string[];
}

/** Both directions: a connection works only when the request and the reply arrive. */
export interface ConnectionResult {
  readonly request: PathResult;
  readonly reply?: PathResult;
  readonly outcome: PathOutcome;
  readonly clientError?: string;
  readonly reason?: string;
  /** Evidence of a failure decided for the connection as a whole (e.g. an un-NATed bridged reply). */
  readonly evidence?: readonly Evidence[];
}
