/**
 * The kernel's IPv4 FIB lookup from evidence: policy rules in priority order (`ip rule`), then
 * longest-prefix match in the table a rule names (`ip route show table all`), lowest metric among
 * equals; `throw` routes and tables without a match fall through to the next rule.
 */
import type { Evidence } from "../model/finding.ts";
import { inCidr, parseIpv4 } from "../net/ipv4.ts";
import type { IpRoute } from "./ip-route.ts";
import type { IpRule } from "./ip-rule.ts";

/** What the lookup is asked: the packet's addresses and where it came in. */
export interface RouteQuery {
  readonly dst: string;
  readonly src?: string;
  /** Input interface of a forwarded packet; absent for locally generated packets. */
  readonly iif?: string;
  readonly fwmark?: number;
}

/** The chosen next hop of a unicast route. */
export interface RouteNextHop {
  readonly dev?: string;
  /** Absent for a directly connected destination: the next hop is the destination itself. */
  readonly gateway?: string;
  readonly onlink: boolean;
}

/** The result of a lookup. */
export type RouteDecision =
  /** A unicast route: the packet leaves by `nextHop.dev`. */
  | {
      readonly kind: "unicast";
      readonly route: IpRoute;
      readonly table: string;
      readonly nextHop: RouteNextHop;
      /** Other next hops of a multipath route (the kernel hashes flows across them). */
      readonly otherNextHops: readonly RouteNextHop[];
      readonly evidence: readonly Evidence[];
    }
  /** The destination is an address of this node (`local` table). */
  | { readonly kind: "local"; readonly route: IpRoute; readonly evidence: readonly Evidence[] }
  /** A route or rule that refuses: blackhole (silent drop), unreachable, prohibit. */
  | {
      readonly kind: "blocked";
      readonly how: "blackhole" | "unreachable" | "prohibit";
      readonly evidence: readonly Evidence[];
    }
  /** Broadcast or multicast destination: not a pod-to-pod path. */
  | { readonly kind: "broadcast"; readonly route: IpRoute; readonly evidence: readonly Evidence[] }
  /** No rule led to a matching route: the kernel answers ENETUNREACH. */
  | { readonly kind: "none"; readonly evidence: readonly Evidence[] }
  /** A rule with selectors this evaluator does not model could decide: undecided. */
  | { readonly kind: "unknown"; readonly reason: string; readonly evidence: readonly Evidence[] };

function ruleMatches(rule: IpRule, q: RouteQuery, dst: number, src: number | undefined): boolean {
  let m = true;
  if (rule.dst !== undefined) m &&= inCidr(dst, rule.dst);
  if (rule.src !== undefined) m &&= src !== undefined && inCidr(src, rule.src);
  // iif "lo" is how rules name locally generated packets.
  if (rule.iif !== undefined) m &&= (q.iif ?? "lo") === rule.iif;
  if (rule.oif !== undefined) m &&= false; // oif rules only match sockets bound to a device
  if (rule.fwmark !== undefined) {
    const mask = rule.fwmask ?? 0xffffffff;
    m &&= ((q.fwmark ?? 0) & mask) >>> 0 === (rule.fwmark & mask) >>> 0;
  }
  return rule.not ? !m : m;
}

/** Longest-prefix match in one table; lowest metric among routes to the same prefix. */
export function matchTable(routes: readonly IpRoute[], table: string, dst: number): IpRoute | undefined {
  let best: IpRoute | undefined;
  for (const r of routes) {
    if (r.family !== "inet" || r.table !== table || r.cidr === undefined) continue;
    if (!inCidr(dst, r.cidr)) continue;
    if (
      best === undefined ||
      r.cidr.prefix > best.cidr!.prefix ||
      (r.cidr.prefix === best.cidr!.prefix && (r.metric ?? 0) < (best.metric ?? 0))
    ) {
      best = r;
    }
  }
  return best;
}

function decide(route: IpRoute, table: string, trail: readonly Evidence[]): RouteDecision | undefined {
  const evidence = [...trail, route.evidence];
  switch (route.type) {
    case "throw":
      return undefined;
    case "local":
      return { kind: "local", route, evidence };
    case "broadcast":
    case "multicast":
    case "anycast":
      return { kind: "broadcast", route, evidence };
    case "blackhole":
    case "unreachable":
    case "prohibit":
      return { kind: "blocked", how: route.type, evidence };
    case "nat":
      return { kind: "unknown", reason: "a route of type nat (not modelled)", evidence };
    case "unicast": {
      const hops: RouteNextHop[] =
        route.nexthops !== undefined && route.nexthops.length > 0
          ? route.nexthops.map((h) => ({
              ...(h.dev === undefined ? {} : { dev: h.dev }),
              ...(h.gateway === undefined ? {} : { gateway: h.gateway }),
              onlink: h.flags.includes("onlink"),
            }))
          : [
              {
                ...(route.dev === undefined ? {} : { dev: route.dev }),
                ...(route.gateway === undefined ? {} : { gateway: route.gateway }),
                onlink: route.flags.includes("onlink"),
              },
            ];
      return { kind: "unicast", route, table, nextHop: hops[0]!, otherNextHops: hops.slice(1), evidence };
    }
    default: {
      const never: never = route.type;
      throw new TypeError(`Unknown route type ${String(never)}`);
    }
  }
}

/**
 * Looks a destination up as the kernel's `fib_lookup` does, given the node's rules and routes.
 *
 * @example
 * ```ts
 * const d = lookupRoute({ dst: "198.18.2.10", iif: "cni0" }, { rules, routes });
 * d.kind === "unicast" && d.nextHop.dev; // "flannel.1"
 * ```
 */
export function lookupRoute(
  query: RouteQuery,
  tables: { readonly rules: readonly IpRule[]; readonly routes: readonly IpRoute[] },
): RouteDecision {
  const dst = parseIpv4(query.dst);
  if (dst === undefined) throw new TypeError(`Cannot look up route to "${query.dst}": not an IPv4 address`);
  const src = query.src === undefined ? undefined : parseIpv4(query.src);
  const { rules } = tables;
  const trail: Evidence[] = [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!ruleMatches(rule, query, dst, src)) continue;
    if (rule.unmodelled !== undefined) {
      return {
        kind: "unknown",
        reason: `policy rule ${rule.priority} matches on ${rule.unmodelled.join(", ")}, which is not modelled`,
        evidence: [...trail, rule.evidence],
      };
    }
    const ruleTrail = [...trail, rule.evidence];
    switch (rule.action) {
      case "table": {
        const route = matchTable(tables.routes, rule.table ?? "main", dst);
        const d = route === undefined ? undefined : decide(route, rule.table ?? "main", ruleTrail);
        if (d !== undefined) return d;
        break;
      }
      case "goto": {
        const target = rules.findIndex((r) => r.priority >= (rule.goto ?? 0));
        if (target > i) i = target - 1;
        break;
      }
      case "blackhole":
      case "unreachable":
      case "prohibit":
        return { kind: "blocked", how: rule.action, evidence: ruleTrail };
      case "nop":
        break;
      default: {
        const never: never = rule.action;
        throw new TypeError(`Unknown rule action ${String(never)}`);
      }
    }
  }
  return { kind: "none", evidence: trail };
}
