/**
 * The whole-host trace's routing decision from the node's own tables (issue 15 follow-up): with
 * `ip -j route show table all` and `ip -j rule show` (nodes/NODE/ip-route.json, ip-rule.json), a
 * destination is local when the kernel's FIB says so (a `local` route), and a forwarded packet leaves
 * by the device of the route the lookup picks (src/hostnet/route-lookup.ts) — what `oifname`
 * matches of a native nftables table (firewalld's zones by interface) need. Without them the walk
 * knows only the addresses of ip-addr.json and the out-interface is unknown.
 */
import type { IpRoute } from "../hostnet/ip-route.ts";
import type { IpRule } from "../hostnet/ip-rule.ts";
import { lookupRoute } from "../hostnet/route-lookup.ts";
import { UNKNOWN_IF } from "../nft/nft-packet.ts";

/** A node's routing tables as the bundle has them. */
export interface HostRoutes {
  readonly routes: readonly IpRoute[];
  readonly rules: readonly IpRule[];
}

/** What the whole-host walk takes from the routing tables. */
export interface HostRouting {
  /** Addresses with a `local` host route (table local): packets to them are delivered to the node. */
  readonly localIps: readonly string[];
  /**
   * The device a destination is routed out of: the route's device, `lo` for a local address,
   * undefined when a route refuses it or none matches (no route), unknown when the lookup cannot
   * decide (a policy rule netdoctor does not model, a route without a device).
   */
  readonly routeInterface: (ip: string) => string | undefined;
}

/**
 * The routing facts of `tables` for packets that arrive on `inInterface` (absent: sent by the node
 * itself).
 *
 * @example
 * ```ts
 * hostRouting({ routes, rules }, { inInterface: "cni0" }).routeInterface("10.42.1.23"); // "flannel.1"
 * ```
 */
export function hostRouting(
  tables: HostRoutes,
  options: { readonly inInterface?: string } = {},
): HostRouting {
  const localIps = tables.routes
    .filter((r) => r.family === "inet" && r.type === "local" && r.table === "local" && r.cidr?.prefix === 32)
    .map((r) => r.dst);
  const routeInterface = (ip: string): string | undefined => {
    const d = lookupRoute(
      { dst: ip, ...(options.inInterface === undefined ? {} : { iif: options.inInterface }) },
      tables,
    );
    switch (d.kind) {
      case "unicast":
        return d.nextHop.dev ?? UNKNOWN_IF;
      case "local":
        return "lo";
      case "blocked":
      case "none":
        return undefined;
      case "broadcast":
        return d.route.dev ?? UNKNOWN_IF;
      case "unknown":
        return UNKNOWN_IF;
      default: {
        const never: never = d;
        throw new TypeError(`Unknown route decision ${JSON.stringify(never)}`);
      }
    }
  };
  return { localIps, routeInterface };
}
