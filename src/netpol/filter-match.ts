/**
 * The rule tests the netpol filter walk evaluates for the first packet of a connection: the
 * parameters (-s/-d/-p/-i/-o/-f) and the match modules kube-router's NetworkPolicy chains use
 * (comment, tcp/udp/sctp, multiport, mark, set, conntrack/state, addrtype, physdev, limit). Any
 * other module is undecided, never guessed. Tri-state: true, false, or the reason it cannot say.
 */
import { evaluateSetMatch } from "../ipset/evaluate-set-match.ts";
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { SetEvidence, SetPacket } from "../ipset/match-set.ts";
import type { Match, MatchValue, RuleOption, RuleSpec } from "../model/ruleset.ts";
import { inCidr, parseCidr } from "../net/ipv4.ts";

/** The packet as the walk sees it: a new connection (conntrack state NEW). */
export interface FilterPacket extends SetPacket {
  /** The packet mark (0 for a new packet unless an earlier table set one). */
  readonly mark?: number;
}

export interface FilterContext {
  readonly sets: IpsetSave | undefined;
  /** The node's own addresses, for `-m addrtype --src-type/--dst-type LOCAL`; undefined when unknown. */
  readonly localIps: readonly number[] | undefined;
  /** Whether the packet crossed a Linux bridge (`-m physdev`); undefined when unknown. */
  readonly bridged: boolean | undefined;
}

export type Tri = boolean | string;

const PROTOCOLS: Readonly<Record<string, string>> = { "6": "tcp", "17": "udp", "132": "sctp", "1": "icmp" };

function value(v: MatchValue | undefined, test: (s: string) => Tri): Tri {
  if (v === undefined) return true;
  const r = test(v.value);
  return typeof r === "string" ? r : r !== v.negated;
}

function address(text: string, ip: number): Tri {
  const c = parseCidr(text);
  return c === undefined ? `address "${text}" is not IPv4` : inCidr(ip, c);
}

function iface(pattern: string, name: string | undefined, which: string): Tri {
  if (name === undefined) return `the packet's ${which}-interface is not known`;
  return pattern.endsWith("+") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

function ports(text: string, port: number): Tri {
  if (port < 0) return "the packet's port is not known";
  for (const part of text.split(",")) {
    const [lo, hi] = part.split(":");
    const a = lo === "" || lo === undefined ? 0 : Number(lo);
    const b = hi === undefined ? a : hi === "" ? 65535 : Number(hi);
    if (!Number.isInteger(a) || !Number.isInteger(b)) return `port "${text}" is not numeric`;
    if (port >= a && port <= b) return true;
  }
  return false;
}

function markTest(o: RuleOption, mark: number): Tri {
  const [v, m] = (o.values[0] ?? "").split("/");
  const val = Number(v);
  const mask = m === undefined ? 0xffffffff : Number(m);
  if (!Number.isInteger(val) || !Number.isInteger(mask)) return `mark "${o.values[0]}" is not a number`;
  return (((mark & mask) >>> 0 === val >>> 0) as boolean) !== o.negated;
}

function ctState(o: RuleOption): Tri {
  const states = (o.values[0] ?? "").split(",");
  if (states.some((s) => s === "DNAT" || s === "SNAT"))
    return `conntrack state ${o.values[0]} depends on NAT`;
  return states.includes("NEW") !== o.negated;
}

function addrType(o: RuleOption, p: FilterPacket, ctx: FilterContext): Tri {
  const ip = o.name === "--src-type" ? p.src : p.dst;
  const types = (o.values[0] ?? "").split(",");
  if (types.length !== 1 || types[0] !== "LOCAL")
    return `address type ${o.values[0]} depends on the node's routes`;
  if (ip >>> 24 === 127) return !o.negated;
  if (ctx.localIps === undefined) return "the node's addresses are not known";
  return ctx.localIps.includes(ip) !== o.negated;
}

function optionTest(m: Match, o: RuleOption, p: FilterPacket, ctx: FilterContext): Tri {
  switch (m.module) {
    case "tcp":
    case "udp":
    case "sctp":
      if (
        o.name === "--dport" ||
        o.name === "--destination-port" ||
        o.name === "--sport" ||
        o.name === "--source-port"
      ) {
        const r = ports(o.values.join(""), o.name.startsWith("--d") ? p.dport : p.sport);
        return typeof r === "string" ? r : r !== o.negated;
      }
      if (o.name === "--syn") return !o.negated;
      return `option ${o.name} of -m ${m.module} is not simulated`;
    case "multiport": {
      const port = o.name.startsWith("--s") ? p.sport : p.dport;
      const r = ports(o.values.join(""), port);
      return typeof r === "string" ? r : r !== o.negated;
    }
    case "mark":
      return markTest(o, p.mark ?? 0);
    case "conntrack":
    case "state":
      return o.name === "--ctstate" || o.name === "--state"
        ? ctState(o)
        : `option ${o.name} of -m ${m.module} depends on connection history`;
    case "addrtype":
      return addrType(o, p, ctx);
    default:
      return `option ${o.name} of -m ${m.module} is not simulated`;
  }
}

/** Whether one `-m` match holds; set matches add the ipset lines they read to `evidence`. */
function matchHolds(m: Match, p: FilterPacket, ctx: FilterContext, evidence: SetEvidence[]): Tri {
  switch (m.module) {
    case "comment":
    case "limit":
    case "nfacct":
      // A limit bucket starts full: the first packet of a flow always passes.
      return true;
    case "set": {
      const r = evaluateSetMatch(ctx.sets, m, p);
      evidence.push(...r.evidence);
      return r.value;
    }
    case "physdev":
      if (ctx.bridged === undefined) return "whether the packet crossed a bridge (physdev) is not known";
      return m.options.every((o) => (o.name === "--physdev-is-bridged" ? ctx.bridged !== o.negated : false));
    case "tcp":
    case "udp":
    case "sctp":
      if (p.proto !== m.module) return false;
      break;
    default:
      break;
  }
  for (const o of m.options) {
    const r = optionTest(m, o, p, ctx);
    if (r !== true) return r;
  }
  return true;
}

/** Whether a rule's parameters and matches hold for `p`; set lines read go to `evidence`. */
export function ruleMatches(
  spec: RuleSpec,
  p: FilterPacket,
  ctx: FilterContext,
  evidence: SetEvidence[],
): Tri {
  const tests: Array<() => Tri> = [
    () => value(spec.source, (s) => address(s, p.src)),
    () => value(spec.destination, (s) => address(s, p.dst)),
    () =>
      value(spec.protocol, (s) => s === "all" || s === "0" || (PROTOCOLS[s] ?? s.toLowerCase()) === p.proto),
    () => value(spec.inInterface, (s) => iface(s, p.inIf, "in")),
    () => value(spec.outInterface, (s) => iface(s, p.outIf, "out")),
    // -f matches second and later fragments; the first packet of a connection is not one.
    () => (spec.fragment === undefined ? true : spec.fragment.negated),
  ];
  for (const t of tests) {
    const r = t();
    if (r !== true) return r;
  }
  for (const m of spec.matches) {
    const r = matchHolds(m, p, ctx, evidence);
    if (r !== true) return r;
  }
  return true;
}
