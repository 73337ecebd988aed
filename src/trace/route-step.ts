/**
 * The route lookup between PREROUTING and INPUT/FORWARD (or after OUTPUT): local delivery or
 * forwarding, recorded as a `routing` step. Without the node's addresses the decision is undecided
 * (issue 12, item 6): after a DNAT to 10.0.20.5 the packet goes to INPUT if 10.0.20.5 is the node's
 * own address and to FORWARD otherwise, and the dump alone cannot tell which.
 */
import type { RoutingStep } from "../model/trace-step.ts";
import { formatIpv4 } from "../net/ipv4.ts";
import { addressText } from "./address-text.ts";
import { isVirtualAddress } from "./ipvs-stage.ts";
import { undecided } from "./match-test.ts";
import { isLocalDst, type Outcome, type Walk } from "./walk-context.ts";
import type { WalkState } from "./walk-state.ts";

/** The out-interface of the route to the path's destination, when the caller knows it. */
export function routeOut(walk: Walk, st: WalkState): string | undefined {
  const r = walk.options.routeInterface?.(formatIpv4(st.dst));
  return r ?? walk.request.outInterface;
}

/** Splits the live paths by their route; paths the tracer cannot route end undecided in `done`. */
export function routePaths(
  walk: Walk,
  live: readonly Outcome[],
  done: Outcome[],
): { local: Outcome[]; forward: Outcome[] } {
  const local: Outcome[] = [];
  const forward: Outcome[] = [];
  for (const l of live) {
    const decision = isLocalDst(walk, l.st);
    const unbound = decision === false && unboundVirtual(walk, l.st);
    const step = unbound ? unboundStep(l) : routingStep(walk, l, decision);
    l.trail = { s: step, prev: l.trail };
    if (decision === undefined || unbound) {
      const needs = walk.ctx.localIps === undefined || unbound ? "node-addresses" : "manual-check";
      l.v = { k: "unknown", why: undecided(step.reason!, needs) };
      l.by = step;
      done.push(l);
    } else (decision ? local : forward).push(l);
  }
  return { local, forward };
}

/**
 * An IPVS virtual server's address that is not among the node's addresses as given: kube-proxy binds
 * every one on kube-ipvs0, and only a packet for a local address reaches IPVS. Whether it is bound is
 * for the node's `ip addr` to say (a missing kube-ipvs0 address is a failure of its own), not a guess.
 */
function unboundVirtual(walk: Walk, st: WalkState): boolean {
  const table = walk.options.ipvs;
  if (table === undefined || "missing" in table) return false;
  return st.hdr.dst.kind === "exact" && isVirtualAddress(table, st.dst);
}

function unboundStep(l: Outcome): RoutingStep {
  const dst = l.st.hdr.dst;
  return {
    kind: "routing",
    decision: "undecided",
    dst,
    basis: "none",
    outInterface: undefined,
    reason: `${addressText(dst)} is an IPVS virtual server, but not an address of this node as given: only a packet for an address bound on the node (kube-ipvs0) reaches IPVS (give the node's ip-addr.json, or --local-ip)`,
  };
}

function routingStep(walk: Walk, l: Outcome, decision: boolean | undefined): RoutingStep {
  const dst = l.st.hdr.dst;
  const basis =
    (l.st.dst & 0xff000000) >>> 0 === 0x7f000000 && dst.kind === "exact" ? "loopback" : "node-addresses";
  // Every field always present, in one order (one object layout; undefined fields are left out of JSON).
  if (decision === true)
    return { kind: "routing", decision: "local", dst, basis, outInterface: undefined, reason: undefined };
  if (decision === false) {
    const out = routeOut(walk, l.st);
    return { kind: "routing", decision: "forward", dst, basis, outInterface: out, reason: undefined };
  }
  const reason =
    walk.ctx.localIps === undefined
      ? `whether ${addressText(dst)} is an address of this node is not known (give --local-ip, or --bundle DIR --node NODE)`
      : `the NAT range ${addressText(dst)} may or may not hold one of the node's addresses`;
  return { kind: "routing", decision: "undecided", dst, basis: "none", outInterface: undefined, reason };
}
