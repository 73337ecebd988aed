/**
 * How a trace path ends (after batfish's `FlowDisposition`): closed, tagged by `kind`, one doc line
 * per member. Every path has exactly one.
 */
import type { Address } from "./flow.ts";
import type { FilterStep, MissingEvidence, OverlayStep, RoutingStep, Step } from "./trace-step.ts";

export type Disposition =
  /** Accepted by the node's INPUT hook: a process of the node itself receives it. */
  | { readonly kind: "delivered-locally" }
  /** Handed to the destination pod (`namespace/name` when known) on the last hop of a multi-hop trace. */
  | { readonly kind: "delivered"; readonly pod?: string; readonly device?: string }
  /** Routed on out of the node (to `nextHop` / `toNode` when known) after every hook accepted it. */
  | {
      readonly kind: "forwarded";
      readonly outInterface?: string;
      readonly nextHop?: string;
      readonly toNode?: string;
    }
  /**
   * Discarded silently by a rule or a chain's DROP policy, or by routing (a blackhole route,
   * forwarding off, rp_filter), or by the overlay (a frame no VTEP takes): `by`; `clientError` when
   * the client's send() fails.
   */
  | {
      readonly kind: "dropped";
      readonly by: FilterStep | RoutingStep | OverlayStep;
      readonly clientError?: string;
    }
  /**
   * Discarded with an answer (`rejectWith`, canonical name); `clientError` is the errno the client
   * sees (absent when the kernel does not report that ICMP code to it: it times out).
   */
  | {
      readonly kind: "rejected";
      readonly by: FilterStep;
      readonly rejectWith: string;
      readonly clientError?: string;
    }
  /** No route to the destination: the client sees `clientError` (ENETUNREACH / EHOSTUNREACH). */
  | { readonly kind: "no-route"; readonly dst: Address; readonly clientError?: string }
  /**
   * Routed to a directly connected address that nothing answers ARP for: EHOSTUNREACH on the
   * client's own node; absent when the ARP fails on a node further on and the client only times out.
   */
  | {
      readonly kind: "neighbor-unreachable";
      readonly ip: string;
      readonly device?: string;
      readonly clientError?: "EHOSTUNREACH";
    }
  /** Leaves the cluster (a destination outside the Service and pod ranges) by `outInterface`. */
  | { readonly kind: "exits-cluster"; readonly outInterface?: string }
  /**
   * The evidence cannot decide the path: `reason` says why, `needs` what would decide it, `at` the
   * step where the tracer stopped.
   */
  | {
      readonly kind: "undecided";
      readonly reason: string;
      readonly needs: MissingEvidence;
      readonly at?: Step;
    };

export type DispositionKind = Disposition["kind"];

/** Every disposition kind, for validation of values read from outside the type system. */
export const DISPOSITION_KINDS: readonly DispositionKind[] = [
  "delivered-locally",
  "delivered",
  "forwarded",
  "dropped",
  "rejected",
  "no-route",
  "neighbor-unreachable",
  "exits-cluster",
  "undecided",
];

/** True when the packet gets where it was sent (delivered, forwarded on, or out of the cluster). */
export function isDelivered(d: Disposition): boolean {
  return (
    d.kind === "delivered-locally" ||
    d.kind === "delivered" ||
    d.kind === "forwarded" ||
    d.kind === "exits-cluster"
  );
}
