/**
 * Tests about addresses beyond CIDRs and about the packet's kind: `-m addrtype`, `-m iprange`,
 * `-m pkttype`, `-m icmp`, and `hashlimit`, whose first-packet answer is fixed (`physdev` is in
 * match-physdev.ts).
 */
import type { Match } from "../model/ruleset.ts";
import { inCidr, parseCidr, parseIpv4 } from "../net/ipv4.ts";
import { optValue } from "./match-ports.ts";
import {
  type MatchContext,
  type MatchResult,
  type MatchTest,
  undecided,
  undecidedTest,
} from "./match-test.ts";

const LOOPBACK = parseCidr("127.0.0.0/8")!;
const MULTICAST = parseCidr("224.0.0.0/4")!;

const NO_LOCAL_IPS = undecided("the node's addresses are not known (give --local-ip)", "node-addresses");
const NO_SUBNETS = undecided("broadcast addresses depend on the node's subnets", "interfaces");
const routeTypes = new Map<string, ReturnType<typeof undecided>>();

function routeType(type: string) {
  let u = routeTypes.get(type);
  if (u === undefined) {
    u = undecided(`address type ${type} depends on the node's routing table`, "routing-table");
    routeTypes.set(type, u);
  }
  return u;
}

function isLocal(ip: number, ctx: MatchContext): boolean | undefined {
  if (inCidr(ip, LOOPBACK)) return true;
  if (ctx.localIps === undefined) return undefined;
  return ctx.localIps.includes(ip);
}

function addrTypeOf(ip: number, type: string, ctx: MatchContext): MatchResult {
  const local = isLocal(ip, ctx);
  const multicast = inCidr(ip, MULTICAST);
  const broadcast = ip === 0xffffffff;
  switch (type) {
    case "LOCAL":
      return local ?? (multicast || broadcast ? false : NO_LOCAL_IPS);
    case "MULTICAST":
      return multicast;
    case "BROADCAST":
      return broadcast || (local === true ? false : NO_SUBNETS);
    case "UNSPEC":
      return ip === 0;
    default:
      // A local, multicast or broadcast address has that type, not UNICAST or a route type.
      if (local === true || multicast || broadcast) return false;
      return routeType(type);
  }
}

/** `-m addrtype --src-type/--dst-type`. */
export function compileAddrtype(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    if (o.name === "--limit-iface-in" || o.name === "--limit-iface-out") {
      return undecidedTest(`addrtype ${o.name} depends on the node's interfaces`, "interfaces");
    }
    if (o.name !== "--src-type" && o.name !== "--dst-type")
      return undecidedTest(`option "${o.name}" of "-m addrtype"`);
    const types = optValue(o).split(",");
    const src = o.name === "--src-type";
    return (st, ctx) => {
      let pending: MatchResult | undefined;
      for (const t of types) {
        const r = addrTypeOf(src ? st.src : st.dst, t, ctx);
        if (r === true) return !o.negated;
        if (typeof r === "object") pending = r;
      }
      return pending ?? o.negated;
    };
  });
}

/** `-m iprange --src-range/--dst-range`. */
export function compileIprange(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    const [a, b] = optValue(o).split("-");
    const lo = parseIpv4(a ?? "");
    const hi = parseIpv4(b ?? a ?? "");
    if (lo === undefined || hi === undefined) return undecidedTest(`iprange "${optValue(o)}" is not IPv4`);
    if (o.name !== "--src-range" && o.name !== "--dst-range")
      return undecidedTest(`option "${o.name}" of "-m iprange"`);
    const src = o.name === "--src-range";
    return (st) => {
      const ip = src ? st.src : st.dst;
      return (ip >= lo && ip <= hi) !== o.negated;
    };
  });
}

/** `-m icmp --icmp-type`: the tracer's ICMP packet is an echo request (type 8). */
export function compileIcmp(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    if (o.name !== "--icmp-type") return undecidedTest(`option "${o.name}" of "-m icmp"`);
    const t = optValue(o);
    const hit = t === "any" || t === "8" || t === "echo-request" || t === "8/0";
    return (st) => st.proto === "icmp" && hit !== o.negated;
  });
}

/** `-m pkttype`: unicast, multicast or broadcast by destination. */
export function compilePkttype(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    const t = optValue(o);
    return (st) => {
      const kind = inCidr(st.dst, MULTICAST) ? "multicast" : st.dst === 0xffffffff ? "broadcast" : "unicast";
      if (kind === "unicast" && t !== "unicast") return o.negated;
      return (kind === t) !== o.negated;
    };
  });
}

/** `-m hashlimit`: a token bucket starts full, so the first packet of a flow is within any limit. */
export function compileHashlimit(m: Match): MatchTest[] {
  if (m.options.some((o) => o.name === "--hashlimit-above")) return [() => false];
  return [() => true];
}
