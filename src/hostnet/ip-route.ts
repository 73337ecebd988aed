/**
 * `ip -j route show table all`: every routing table (main, local, and policy tables). IPv6 routes
 * are kept with `family: "inet6"` but only IPv4 is evaluated.
 */
import type { Evidence } from "../model/finding.ts";
import { type Cidr, parseCidr } from "../net/ipv4.ts";
import {
  type HostParseWarning,
  itemEvidence,
  itemObject,
  type JsonObject,
  num,
  parseJsonArray,
  str,
  strings,
} from "./json-array.ts";

/** The kernel's route types (rtnetlink RTN_*), as `ip` prints them. */
export type RouteType =
  | "unicast"
  | "local"
  | "broadcast"
  | "multicast"
  | "anycast"
  | "blackhole"
  | "unreachable"
  | "prohibit"
  | "throw"
  | "nat";

const ROUTE_TYPES: ReadonlySet<string> = new Set<RouteType>([
  "unicast",
  "local",
  "broadcast",
  "multicast",
  "anycast",
  "blackhole",
  "unreachable",
  "prohibit",
  "throw",
  "nat",
]);

/** One next hop of a multipath route. */
export interface NextHop {
  readonly gateway?: string;
  readonly dev?: string;
  readonly weight?: number;
  readonly flags: readonly string[];
}

/** One route. */
export interface IpRoute {
  readonly family: "inet" | "inet6";
  /** `main` when `ip` prints no table (it omits it for main). */
  readonly table: string;
  readonly type: RouteType;
  /** As printed: `default`, `198.18.2.0/24` or a host address. */
  readonly dst: string;
  /** The destination as a network (`default` is 0.0.0.0/0; a host is /32); IPv4 only. */
  readonly cidr?: Cidr;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly prefsrc?: string;
  /** Lower wins among routes to the same prefix (absent = 0). */
  readonly metric?: number;
  /** `onlink`, `linkdown`, `dead`, `pervasive`, ... */
  readonly flags: readonly string[];
  readonly nexthops?: readonly NextHop[];
  readonly evidence: Evidence;
}

export interface IpRouteTable {
  readonly routes: readonly IpRoute[];
  readonly warnings: readonly HostParseWarning[];
}

function nexthops(o: JsonObject): NextHop[] | undefined {
  const list = o.nexthops;
  if (!Array.isArray(list)) return undefined;
  return list
    .filter((n): n is JsonObject => typeof n === "object" && n !== null)
    .map((n) => {
      const gateway = str(n, "gateway");
      const dev = str(n, "dev");
      const weight = num(n, "weight");
      return {
        ...(gateway === undefined ? {} : { gateway }),
        ...(dev === undefined ? {} : { dev }),
        ...(weight === undefined ? {} : { weight }),
        flags: strings(n, "flags"),
      };
    });
}

/** IPv6 when an address has a colon; `ip` prints `pref` only on IPv6 routes (for `default dev X`). */
function familyOf(o: JsonObject, dst: string): "inet" | "inet6" {
  const gateway = str(o, "gateway") ?? "";
  const prefsrc = str(o, "prefsrc") ?? "";
  if (dst.includes(":") || gateway.includes(":") || prefsrc.includes(":")) return "inet6";
  return o.pref !== undefined ? "inet6" : "inet";
}

function cidrOf(dst: string): Cidr | undefined {
  if (dst === "default") return { base: 0, mask: 0, prefix: 0 };
  const c = parseCidr(dst);
  return c === undefined || c.prefix < 0 ? undefined : c;
}

/**
 * Parses `ip -j route show table all`.
 *
 * @example
 * ```ts
 * const { routes } = parseIpRoute(text, { file: "nodes/a/ip-route.json" });
 * routes.find((r) => r.dst === "198.18.2.0/24")?.flags; // ["onlink"]
 * ```
 * @throws {SyntaxError} When the text is not a JSON array.
 */
export function parseIpRoute(text: string, options: { file: string }): IpRouteTable {
  const warnings: HostParseWarning[] = [];
  const routes: IpRoute[] = [];
  for (const item of parseJsonArray(text, options)) {
    const o = itemObject(options.file, item, warnings);
    if (o === undefined) continue;
    const dst = str(o, "dst");
    const typeText = str(o, "type") ?? "unicast";
    if (dst === undefined || !ROUTE_TYPES.has(typeText)) {
      warnings.push({
        file: options.file,
        line: item.line,
        text: JSON.stringify(o).slice(0, 200),
        reason: dst === undefined ? `$[${item.index}] has no "dst"` : `unknown route type "${typeText}"`,
      });
      continue;
    }
    const family = familyOf(o, dst);
    const cidr = family === "inet" ? cidrOf(dst) : undefined;
    if (family === "inet" && cidr === undefined) {
      warnings.push({
        file: options.file,
        line: item.line,
        text: JSON.stringify(o).slice(0, 200),
        reason: `$[${item.index}] has an unreadable destination "${dst}"`,
      });
      continue;
    }
    const table = str(o, "table") ?? (num(o, "table") === undefined ? "main" : String(num(o, "table")));
    const optional = {
      gateway: str(o, "gateway"),
      dev: str(o, "dev"),
      protocol: str(o, "protocol"),
      scope: str(o, "scope"),
      prefsrc: str(o, "prefsrc"),
      metric: num(o, "metric"),
      nexthops: nexthops(o),
      cidr,
    };
    routes.push({
      family,
      table,
      type: typeText as RouteType,
      dst,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
      flags: strings(o, "flags"),
      evidence: itemEvidence(options.file, item),
    } as IpRoute);
  }
  return { routes, warnings };
}
