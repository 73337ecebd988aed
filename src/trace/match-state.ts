/**
 * Tests that read the packet's or the connection's state: `-m mark`, `-m connmark`, `-m conntrack`,
 * `-m state`, `-m statistic` and `-m recent`. The tracer follows the first packet of a connection.
 */
import type { Match, RuleOption } from "../model/ruleset.ts";
import { inCidr, parseCidr, parseIpv4 } from "../net/ipv4.ts";
import { compileProtocol } from "./match-header.ts";
import { NO_SOURCE_PORT, optValue, parsePortRange } from "./match-ports.ts";
import { type MatchTest, undecided, undecidedTest } from "./match-test.ts";
import type { WalkState } from "./walk-state.ts";

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

/** `-m mark --mark` / `-m connmark --mark`. */
export function compileMark(m: Match, which: "mark" | "ctmark"): MatchTest[] {
  return m.options.map((o): MatchTest => {
    if (o.name !== "--mark") return undecidedTest(`option "${o.name}" of "-m ${m.module}" is not simulated`);
    const mm = parseMarkMask(optValue(o));
    if (mm === undefined) return undecidedTest(`mark "${optValue(o)}" is not a number`);
    return (st) => (((which === "mark" ? st.mark : st.ctmark) & mm.mask) >>> 0 === mm.value) !== o.negated;
  });
}

const CT_STATES = new Set(["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"]);

const REPLY_NAT = undecided(
  "whether the connection was NATed is not known for its reply (the request's NAT is on another hop)",
  "connection-history",
);

/**
 * `--ctstate` / `--state`: the first packet is NEW (or UNTRACKED), and DNAT/SNAT once rewritten; a
 * reply of a tracked connection (MatchContext.reply) is ESTABLISHED.
 */
export function compileStateTest(o: RuleOption, virtualStates: boolean): MatchTest {
  const states = optValue(o).split(",");
  for (const s of states) {
    if (!CT_STATES.has(s) || (!virtualStates && (s === "SNAT" || s === "DNAT"))) {
      return undecidedTest(`conntrack state "${s}" is not known`);
    }
  }
  const nat = states.includes("DNAT") || states.includes("SNAT");
  return (st, ctx) => {
    let hit = false;
    const reply = ctx.reply === true && !st.untracked;
    for (const s of states) {
      if (s === "NEW" && !st.untracked && !reply) hit = true;
      else if (s === "ESTABLISHED" && reply) hit = true;
      else if (s === "UNTRACKED" && st.untracked) hit = true;
      else if (s === "DNAT" && st.dnat) hit = true;
      else if (s === "SNAT" && st.snat) hit = true;
    }
    // A reply's DNAT/SNAT state is the request's, decided on another hop.
    if (!hit && nat && reply) return REPLY_NAT;
    return hit !== o.negated;
  };
}

const REPLY_AFTER_SNAT = undecided("the reply destination after SNAT is not known", "manual-check");

const REPLY_TUPLE = undecided(
  "the connection's original tuple is not known for its reply (the request's NAT is on another hop)",
  "connection-history",
);

function conntrackOption(o: RuleOption): MatchTest {
  const addr = (get: (st: WalkState) => number): MatchTest => {
    const c = parseCidr(optValue(o));
    if (c === undefined) return undecidedTest(`address "${optValue(o)}" is not IPv4`);
    return (st, ctx) =>
      st.untracked ? o.negated : ctx.reply === true ? REPLY_TUPLE : inCidr(get(st), c) !== o.negated;
  };
  const port = (get: (st: WalkState) => number): MatchTest => {
    const r = parsePortRange(optValue(o));
    if (r === undefined) return undecidedTest(`port "${optValue(o)}" is not numeric`);
    return (st, ctx) => {
      if (ctx.reply === true && !st.untracked) return REPLY_TUPLE;
      const p = get(st);
      if (p < 0) return NO_SOURCE_PORT;
      return (p >= r[0] && p <= r[1]) !== o.negated;
    };
  };
  switch (o.name) {
    case "--ctstate":
      return compileStateTest(o, true);
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
      return (st, ctx) => (st.snat ? REPLY_AFTER_SNAT : t(st, ctx));
    }
    case "--ctorigsrcport":
      return port((st) => st.origSport);
    case "--ctorigdstport":
      return port((st) => st.origDport);
    case "--ctreplsrcport":
      return port((st) => st.dport);
    case "--ctdir": {
      const dir = optValue(o);
      return (_st, ctx) => (dir === (ctx.reply === true ? "REPLY" : "ORIGINAL")) !== o.negated;
    }
    default:
      return undecidedTest(
        `option "${o.name}" of "-m conntrack" depends on connection history`,
        "connection-history",
      );
  }
}

/** `-m conntrack`. */
export function compileConntrack(m: Match): MatchTest[] {
  return m.options.map(conntrackOption);
}

/** `-m statistic`: random answers its probability (the walk forks); nth needs the rule's counters. */
export function compileStatistic(m: Match): MatchTest[] {
  const get = (n: string) => m.options.find((o) => o.name === n);
  const mode = get("--mode")?.values[0];
  if (mode === "random") {
    const o = get("--probability");
    const p = Number(o?.values[0]);
    if (o === undefined || !Number.isFinite(p) || p < 0 || p > 1)
      return [undecidedTest(`statistic probability is missing or invalid`)];
    const q = o.negated ? 1 - p : p;
    return [() => (q <= 0 ? false : q >= 1 ? true : q)];
  }
  if (mode === "nth") {
    const every = Number(get("--every")?.values[0]);
    const packet = Number(get("--packet")?.values[0] ?? 0);
    const neg = get("--every")?.negated === true;
    if (!Number.isInteger(every) || every < 1)
      return [undecidedTest(`statistic --every is missing or invalid`)];
    if (every === 1) return [() => !neg];
    const counters = undecided(
      `statistic --mode nth --every ${every} depends on how many packets the rule has seen`,
      "packet-counters",
    );
    // xt_statistic: the counter starts at --packet and the packet matches when it equals every-1.
    return [(_st, ctx) => (ctx.nthCounters === "fresh" ? (packet === every - 1) !== neg : counters)];
  }
  return [undecidedTest(`statistic mode "${mode ?? ""}" is not known`)];
}

/** `-m recent`: only records this walk made count (the tracer sees no earlier packets). */
export function compileRecent(m: Match): MatchTest[] {
  const has = (n: string) => m.options.some((o) => o.name === n);
  const opt = (n: string) => m.options.find((o) => o.name === n);
  const name = opt("--name")?.values[0] ?? "DEFAULT";
  const mask = parseIpv4(opt("--mask")?.values[0] ?? "255.255.255.255");
  if (mask === undefined) return [undecidedTest(`recent --mask is not IPv4`)];
  const rdest = has("--rdest");
  const action = ["--set", "--rcheck", "--update", "--remove"].find(has);
  const negated = m.options.some((o) => o.negated);
  const hitcount = Number(opt("--hitcount")?.values[0] ?? 0);
  if (action === undefined) return [undecidedTest(`recent without --set/--rcheck/--update/--remove`)];
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
