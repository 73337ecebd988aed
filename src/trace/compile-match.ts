/**
 * Turns a rule's parameters and matches into small test functions, each answering for one packet:
 * `true`/`false`, a probability in (0, 1) (statistic random: the walk forks), or a string giving
 * why the dump cannot decide (the path becomes `unknown`).
 */
import type { Match, MatchValue, RuleOption } from "../model/ruleset.ts";
import { inCidr, parseCidr, parseIpv4 } from "../net/ipv4.ts";
import type { WalkState } from "./walk-state.ts";

export type MatchResult = boolean | number | string;

/** What the tests may consult besides the packet. */
export interface MatchContext {
  /** The node's own addresses; undefined when not given (then LOCAL checks are unknown except 127/8). */
  readonly localIps: readonly number[] | undefined;
  /** Whether the packet crossed a Linux bridge (physdev); undefined when unknown. */
  readonly bridged: boolean | undefined;
  /** `fresh`: counters of `statistic --mode nth` are as just loaded; `unknown` (default): undecidable. */
  readonly nthCounters: "fresh" | "unknown";
}

export type MatchTest = (st: WalkState, ctx: MatchContext) => MatchResult;

export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  sctp: 132,
  udplite: 136,
};

const LOOPBACK = parseCidr("127.0.0.0/8")!;
const MULTICAST = parseCidr("224.0.0.0/4")!;

const unknown =
  (reason: string): MatchTest =>
  () =>
    reason;

/** `-s`/`-d`: an IPv4 CIDR, possibly negated. */
export function compileAddress(v: MatchValue, which: "src" | "dst"): MatchTest {
  const cidr = parseCidr(v.value);
  if (cidr === undefined) return unknown(`address "${v.value}" is not IPv4`);
  const neg = v.negated;
  return which === "src" ? (st) => inCidr(st.src, cidr) !== neg : (st) => inCidr(st.dst, cidr) !== neg;
}

export function compileProtocol(v: MatchValue): MatchTest {
  const name = v.value.toLowerCase();
  if (name === "all" || name === "0") return () => !v.negated;
  const num = /^\d+$/.test(name) ? Number(name) : PROTOCOL_NUMBERS[name];
  if (num === undefined) return unknown(`protocol "${v.value}" is not known`);
  return (st) => (st.protoNum === num) !== v.negated;
}

/** Kernel `ifname_compare`: a trailing `+` matches any name with that prefix. */
export function interfaceMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith("+")) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

export function compileInterface(v: MatchValue, which: "in" | "out"): MatchTest {
  const pattern = v.value;
  return (st) => {
    const name = which === "in" ? st.inIf : st.outIf;
    if (name === undefined) {
      return `the packet's ${which}-interface is not known (give --${which === "in" ? "in" : "out"}-interface)`;
    }
    return interfaceMatches(pattern, name) !== v.negated;
  };
}

/** A port or `lo:hi` range (either side may be empty); undefined for names iptables-save never prints. */
export function parsePortRange(text: string): [number, number] | undefined {
  const m = /^(\d*)(?::(\d*))?$/.exec(text);
  if (m === null || (m[1] === "" && m[2] === undefined)) return undefined;
  const lo = m[1] === "" ? 0 : Number(m[1]);
  const hi = m[2] === undefined ? lo : m[2] === "" ? 65535 : Number(m[2]);
  if (lo > 65535 || hi > 65535) return undefined;
  return lo <= hi ? [lo, hi] : [hi, lo];
}

function optValue(o: RuleOption): string {
  return o.values.join(" ");
}

function portTest(o: RuleOption, which: "src" | "dst"): MatchTest {
  const ranges: Array<[number, number]> = [];
  for (const part of optValue(o).split(",")) {
    const r = parsePortRange(part.trim());
    if (r === undefined) return unknown(`port "${optValue(o)}" is not numeric`);
    ranges.push(r);
  }
  const neg = o.negated;
  return (st) => {
    const port = which === "src" ? st.sport : st.dport;
    if (port < 0) return which === "src" ? "the source port is not known (give --src IP:PORT)" : false;
    let hit = false;
    for (const [lo, hi] of ranges) if (port >= lo && port <= hi) hit = true;
    return hit !== neg;
  };
}

/** TCP flags of the first packet of a connection: SYN only. */
const SYN_FLAGS = new Set(["SYN"]);

function tcpFlagsTest(o: RuleOption): MatchTest {
  const [maskText, compText] = o.values;
  if (maskText === undefined || compText === undefined)
    return unknown(`--tcp-flags needs a mask and a value`);
  const set = (t: string) =>
    t === "ALL" ? ["SYN", "ACK", "FIN", "RST", "URG", "PSH", "ECE", "CWR"] : t === "NONE" ? [] : t.split(",");
  const mask = set(maskText);
  const comp = new Set(set(compText));
  const hit = mask.every((f) => SYN_FLAGS.has(f) === comp.has(f));
  return () => hit !== o.negated;
}

/**
 * The tests of `-m tcp|udp|sctp`. `protoChecked`: the rule's `-p` already requires this protocol
 * (the module's own protocol test would always pass). `skip`: an option the caller evaluates itself.
 */
export function compileProtoMatch(
  m: Match,
  options: { readonly protoChecked?: boolean; readonly skip?: RuleOption | undefined } = {},
): MatchTest[] {
  const tests: MatchTest[] = [];
  const proto = m.module;
  if (options.protoChecked !== true) tests.push((st) => st.proto === proto);
  for (const o of m.options) {
    if (o === options.skip) continue;
    switch (o.name) {
      case "--dport":
      case "--destination-port":
        tests.push(portTest(o, "dst"));
        break;
      case "--sport":
      case "--source-port":
        tests.push(portTest(o, "src"));
        break;
      case "--syn":
        tests.push(() => !o.negated);
        break;
      case "--tcp-flags":
        tests.push(tcpFlagsTest(o));
        break;
      default:
        tests.push(unknown(`option "${o.name}" of "-m ${proto}" is not simulated`));
    }
  }
  return tests;
}

function compileMultiport(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    switch (o.name) {
      case "--dports":
      case "--destination-ports":
        return portTest(o, "dst");
      case "--sports":
      case "--source-ports":
        return portTest(o, "src");
      case "--ports": {
        const d = portTest({ ...o, negated: false }, "dst");
        const s = portTest({ ...o, negated: false }, "src");
        return (st, ctx) => {
          const a = d(st, ctx);
          if (a === true) return !o.negated;
          const b = s(st, ctx);
          if (typeof b === "string") return b;
          return (b === true) !== o.negated;
        };
      }
      default:
        return unknown(`option "${o.name}" of "-m multiport" is not simulated`);
    }
  });
}

/** `value[/mask]` as unsigned numbers; mask defaults to all ones. */
export function parseMarkMask(text: string): { value: number; mask: number } | undefined {
  const [v, m] = text.split("/");
  const value = Number(v);
  const mask = m === undefined ? 0xffffffff : Number(m);
  if (
    !Number.isInteger(value) ||
    !Number.isInteger(mask) ||
    value < 0 ||
    mask < 0 ||
    value > 0xffffffff ||
    mask > 0xffffffff
  ) {
    return undefined;
  }
  return { value: value >>> 0, mask: mask >>> 0 };
}

function markTest(m: Match, which: "mark" | "ctmark"): MatchTest[] {
  return m.options.map((o): MatchTest => {
    if (o.name !== "--mark") return unknown(`option "${o.name}" of "-m ${m.module}" is not simulated`);
    const mm = parseMarkMask(optValue(o));
    if (mm === undefined) return unknown(`mark "${optValue(o)}" is not a number`);
    return (st) => (((which === "mark" ? st.mark : st.ctmark) & mm.mask) >>> 0 === mm.value) !== o.negated;
  });
}

const CT_STATES = new Set(["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"]);

function stateTest(o: RuleOption, virtualStates: boolean): MatchTest {
  const states = optValue(o).split(",");
  for (const s of states) {
    if (!CT_STATES.has(s) || (!virtualStates && (s === "SNAT" || s === "DNAT"))) {
      return unknown(`conntrack state "${s}" is not known`);
    }
  }
  return (st) => {
    let hit = false;
    for (const s of states) {
      if (s === "NEW" && !st.untracked) hit = true;
      else if (s === "UNTRACKED" && st.untracked) hit = true;
      else if (s === "DNAT" && st.dnat) hit = true;
      else if (s === "SNAT" && st.snat) hit = true;
    }
    return hit !== o.negated;
  };
}

function compileConntrack(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    const addr = (get: (st: WalkState) => number): MatchTest => {
      const c = parseCidr(optValue(o));
      if (c === undefined) return unknown(`address "${optValue(o)}" is not IPv4`);
      return (st) => (st.untracked ? o.negated : inCidr(get(st), c) !== o.negated);
    };
    const port = (get: (st: WalkState) => number): MatchTest => {
      const r = parsePortRange(optValue(o));
      if (r === undefined) return unknown(`port "${optValue(o)}" is not numeric`);
      return (st) => {
        const p = get(st);
        if (p < 0) return "the source port is not known (give --src IP:PORT)";
        return (p >= r[0] && p <= r[1]) !== o.negated;
      };
    };
    switch (o.name) {
      case "--ctstate":
        return stateTest(o, true);
      case "--ctproto": {
        const t = compileProtocol({ negated: o.negated, value: optValue(o) });
        return (st, ctx) => (st.untracked ? o.negated : t(st, ctx));
      }
      case "--ctorigsrc":
        return addr((st) => st.origSrc);
      case "--ctorigdst":
        return addr((st) => st.origDst);
      // The reply tuple's source is the original destination after DNAT.
      case "--ctreplsrc":
        return addr((st) => st.dst);
      // Before POSTROUTING nat the reply destination is the original source.
      case "--ctrepldst": {
        const t = addr((st) => st.origSrc);
        return (st, ctx) => (st.snat ? "the reply destination after SNAT is not known" : t(st, ctx));
      }
      case "--ctorigsrcport":
        return port((st) => st.origSport);
      case "--ctorigdstport":
        return port((st) => st.origDport);
      case "--ctreplsrcport":
        return port((st) => st.dport);
      case "--ctdir": {
        const dir = optValue(o);
        return () => (dir === "ORIGINAL") !== o.negated;
      }
      default:
        return unknown(`option "${o.name}" of "-m conntrack" depends on connection history`);
    }
  });
}

function compileStatistic(m: Match): MatchTest[] {
  const get = (n: string) => m.options.find((o) => o.name === n);
  const mode = get("--mode")?.values[0];
  if (mode === "random") {
    const o = get("--probability");
    const p = Number(o?.values[0]);
    if (o === undefined || !Number.isFinite(p) || p < 0 || p > 1)
      return [unknown(`statistic probability is missing or invalid`)];
    const q = o.negated ? 1 - p : p;
    return [() => (q <= 0 ? false : q >= 1 ? true : q)];
  }
  if (mode === "nth") {
    const every = Number(get("--every")?.values[0]);
    const packet = Number(get("--packet")?.values[0] ?? 0);
    const neg = get("--every")?.negated === true;
    if (!Number.isInteger(every) || every < 1) return [unknown(`statistic --every is missing or invalid`)];
    if (every === 1) return [() => !neg];
    // xt_statistic: the counter starts at --packet and the packet matches when it equals every-1.
    return [
      (_st, ctx) =>
        ctx.nthCounters === "fresh"
          ? (packet === every - 1) !== neg
          : `statistic --mode nth --every ${every} depends on how many packets the rule has seen`,
    ];
  }
  return [unknown(`statistic mode "${mode ?? ""}" is not known`)];
}

function compileRecent(m: Match): MatchTest[] {
  const has = (n: string) => m.options.some((o) => o.name === n);
  const opt = (n: string) => m.options.find((o) => o.name === n);
  const name = opt("--name")?.values[0] ?? "DEFAULT";
  const mask = parseIpv4(opt("--mask")?.values[0] ?? "255.255.255.255");
  if (mask === undefined) return [unknown(`recent --mask is not IPv4`)];
  const rdest = has("--rdest");
  const action = ["--set", "--rcheck", "--update", "--remove"].find(has);
  const negated = m.options.some((o) => o.negated);
  const hitcount = Number(opt("--hitcount")?.values[0] ?? 0);
  if (action === undefined) return [unknown(`recent without --set/--rcheck/--update/--remove`)];
  return [
    (st) => {
      const key = ((rdest ? st.dst : st.src) & mask) >>> 0;
      const rec = st.recent?.findIndex((r) => r.name === name && r.key === key) ?? -1;
      if (action === "--set") {
        if (rec < 0) st.recent = [...(st.recent ?? []), { name, key }];
        return !negated;
      }
      // The tracer follows the first packet of a connection on a node whose recent lists it does
      // not see: only records this walk made count, with one hit.
      if (rec < 0) return negated;
      if (action === "--remove") {
        st.recent = st.recent!.filter((_, i) => i !== rec);
        return !negated;
      }
      return hitcount <= 1 !== negated;
    },
  ];
}

function isLocal(ip: number, ctx: MatchContext): boolean | undefined {
  if (inCidr(ip, LOOPBACK)) return true;
  if (ctx.localIps === undefined) return undefined;
  return ctx.localIps.includes(ip);
}

function addrTypeOf(ip: number, type: string, ctx: MatchContext): boolean | string {
  const local = isLocal(ip, ctx);
  const multicast = inCidr(ip, MULTICAST);
  const broadcast = ip === 0xffffffff;
  switch (type) {
    case "LOCAL":
      return (
        local ?? (multicast || broadcast ? false : "the node's addresses are not known (give --local-ip)")
      );
    case "MULTICAST":
      return multicast;
    case "BROADCAST":
      return broadcast || (local === true ? false : "broadcast addresses depend on the node's subnets");
    case "UNSPEC":
      return ip === 0;
    default:
      // A local, multicast or broadcast address has that type, not UNICAST or a route type.
      if (local === true || multicast || broadcast) return false;
      return `address type ${type} depends on the node's routing table`;
  }
}

function compileAddrtype(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    if (o.name === "--limit-iface-in" || o.name === "--limit-iface-out") {
      return unknown(`addrtype ${o.name} depends on the node's interfaces`);
    }
    if (o.name !== "--src-type" && o.name !== "--dst-type")
      return unknown(`option "${o.name}" of "-m addrtype"`);
    const types = optValue(o).split(",");
    const src = o.name === "--src-type";
    return (st, ctx) => {
      let pending: string | undefined;
      for (const t of types) {
        const r = addrTypeOf(src ? st.src : st.dst, t, ctx);
        if (r === true) return !o.negated;
        if (typeof r === "string") pending = r;
      }
      return pending ?? o.negated;
    };
  });
}

function compilePhysdev(m: Match): MatchTest[] {
  const required = m.options.filter((o) => !o.negated).length > 0;
  return [
    (_st, ctx) => {
      if (ctx.bridged === false) return !required;
      return `physdev depends on whether the packet crossed a bridge`;
    },
  ];
}

function compileIprange(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    const [a, b] = optValue(o).split("-");
    const lo = parseIpv4(a ?? "");
    const hi = parseIpv4(b ?? a ?? "");
    if (lo === undefined || hi === undefined) return unknown(`iprange "${optValue(o)}" is not IPv4`);
    if (o.name !== "--src-range" && o.name !== "--dst-range")
      return unknown(`option "${o.name}" of "-m iprange"`);
    const src = o.name === "--src-range";
    return (st) => {
      const ip = src ? st.src : st.dst;
      return (ip >= lo && ip <= hi) !== o.negated;
    };
  });
}

function compileIcmp(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    if (o.name !== "--icmp-type") return unknown(`option "${o.name}" of "-m icmp"`);
    const t = optValue(o);
    // The tracer's ICMP packet is an echo request (type 8).
    const hit = t === "any" || t === "8" || t === "echo-request" || t === "8/0";
    return (st) => st.proto === "icmp" && hit !== o.negated;
  });
}

function compilePkttype(m: Match): MatchTest[] {
  return m.options.map((o): MatchTest => {
    const t = optValue(o);
    return (st) => {
      const kind = inCidr(st.dst, MULTICAST) ? "multicast" : st.dst === 0xffffffff ? "broadcast" : "unicast";
      if (kind === "unicast" && t !== "unicast") return o.negated;
      return (kind === t) !== o.negated;
    };
  });
}

function compileHashlimit(m: Match): MatchTest[] {
  // A token bucket starts full: the first packet of a flow is within any limit.
  if (m.options.some((o) => o.name === "--hashlimit-above")) return [() => false];
  return [() => true];
}

/** The tests of one `-m` match, in evaluation order. */
export function compileMatch(m: Match): MatchTest[] {
  switch (m.module) {
    case "tcp":
    case "udp":
    case "sctp":
      return compileProtoMatch(m);
    case "multiport":
      return compileMultiport(m);
    case "comment":
    case "nfacct":
      return [];
    case "mark":
      return markTest(m, "mark");
    case "connmark":
      return markTest(m, "ctmark");
    case "conntrack":
      return compileConntrack(m);
    case "state":
      return m.options.map((o) =>
        o.name === "--state" ? stateTest(o, false) : unknown(`option "${o.name}" of "-m state"`),
      );
    case "statistic":
      return compileStatistic(m);
    case "recent":
      return compileRecent(m);
    case "limit":
      // The bucket starts with --limit-burst tokens: the first packet always passes.
      return [];
    case "hashlimit":
      return compileHashlimit(m);
    case "addrtype":
      return compileAddrtype(m);
    case "physdev":
      return compilePhysdev(m);
    case "set":
      return [unknown(`ipset membership ("-m set") is not in an iptables dump`)];
    case "iprange":
      return compileIprange(m);
    case "icmp":
      return compileIcmp(m);
    case "pkttype":
      return compilePkttype(m);
    default:
      return [
        unknown(
          m.known ? `match "-m ${m.module}" is not simulated` : `match module "${m.module}" is not known`,
        ),
      ];
  }
}
