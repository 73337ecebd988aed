/**
 * fast-check arbitrary for random but loadable nftables rulesets over the oracle topology
 * (trace-oracle.ts): one to three tables (ip and inet) of three kinds — filter tables at input,
 * forward and output (may reject), pre/post tables at prerouting and postrouting, NAT tables — with
 * base chains at random priorities on shared hooks, acyclic jumps and gotos between regular chains,
 * return and continue, verdict maps (anonymous, named, numgen-keyed), named sets with intervals and
 * concatenations, anonymous sets, marks and ct marks, meta random, fib, interface names, DNAT
 * (constant and numgen-mapped), SNAT and masquerade.
 *
 * Every filter base chain starts with `ct state established,related accept`, so replies and ICMP
 * errors always pass: the kernel's answer then depends only on a connection's first packet, which is
 * what the evaluator follows. Priorities stay above conntrack's -200 for the same reason.
 */
import fc from "fast-check";

type Kind = "filter" | "prepost" | "nat";

const DADDR = ["198.19.0.10", "198.18.2.1", "198.18.2.2", "198.18.0.1", "198.19.0.0/16", "198.18.2.0/30"];
const SADDR = ["198.18.1.2", "198.18.1.3", "198.18.0.1", "198.18.1.0/24"];
const PORTS = ["80", "443", "8080", "53", "{ 80, 443 }", "1-1000", "8000-9000"];
const MARKS = ["0x1", "0x2", "0x3"];
const REJECTS = [
  "reject",
  "reject with icmp host-prohibited",
  "reject with icmp net-unreachable",
  "reject with icmp port-unreachable",
  "reject with icmp admin-prohibited",
  "reject with icmpx admin-prohibited",
  "reject with icmpx no-route",
  "meta l4proto tcp reject with tcp reset",
];
const DNATS = ["198.18.2.1:8080", "198.18.2.2:80", "198.18.2.3:443", "198.19.0.20:80", "198.18.0.1:443"];

const HOOKS: Readonly<Record<Kind, readonly string[]>> = {
  filter: ["input", "forward", "output"],
  prepost: ["prerouting", "postrouting"],
  nat: ["prerouting", "output", "postrouting"],
};
const PRIORITIES: Readonly<Record<Kind, readonly number[]>> = {
  filter: [-150, -20, -5, 0, 5, 20, 150],
  prepost: [-190, -150, -110, -50, 0, 50, 150],
  nat: [-150, -100, -90, 50, 100, 110],
};

export interface RandomNftRuleset {
  readonly text: string;
  readonly tables: number;
  readonly rules: number;
}

type G = fc.GeneratorValue;
const pick = <T>(g: G, xs: readonly T[]): T => g(fc.constantFrom, ...xs);

function match(g: G, hook: string): string {
  const which = g(fc.integer, { min: 0, max: 15 });
  switch (which) {
    case 0:
      return `ip daddr ${pick(g, DADDR)}`;
    case 1:
      return `ip daddr != ${pick(g, DADDR)}`;
    case 2:
      return `ip saddr ${pick(g, SADDR)}`;
    case 3:
      return `tcp dport ${pick(g, PORTS)}`;
    case 4:
      return `meta l4proto ${pick(g, ["tcp", "udp"])} th dport ${pick(g, ["53", "80", "443", "8080"])}`;
    case 5:
      return "ip daddr @dstset";
    case 6:
      return "ip daddr . tcp dport @dstports";
    case 7:
      return `meta mark ${pick(g, MARKS)}`;
    case 8:
      return `meta mark & 0x2 == 0x2`;
    case 9:
      return hook === "output" || hook === "postrouting"
        ? `oifname "${pick(g, ["nd-w", "nd-s0", "nd-s*", "lo"])}"`
        : `iifname "${pick(g, ["nd-p0", "nd-p1", "nd-p*", "lo"])}"`;
    case 10:
      return pick(g, ["ct state new", "ct state established", "ct status dnat", "ct status != dnat"]);
    case 11:
      return pick(g, ["fib daddr type local", "fib saddr type local", "fib daddr type != local"]);
    case 12:
      return `ct mark ${pick(g, ["0x5", "0x0"])}`;
    case 13:
      return "meta random & 2147483647 < 1073741824";
    case 14:
      return `ip daddr { ${pick(g, ["198.19.0.10, 198.18.2.1", "198.18.2.0/24, 198.18.0.1", "198.19.0.1-198.19.0.20"])} }`;
    default:
      return `meta l4proto ${pick(g, ["tcp", "udp"])}`;
  }
}

function jumpTarget(g: G, later: readonly string[]): string | undefined {
  return later.length === 0 ? undefined : `${pick(g, ["jump", "goto"])} ${pick(g, later)}`;
}

function action(g: G, kind: Kind, hook: string, later: readonly string[], family: string): string {
  const which = g(fc.integer, { min: 0, max: 13 });
  const ipTo = family === "inet" ? "dnat ip to" : "dnat to";
  switch (which) {
    case 0:
      return "accept";
    case 1:
      return "drop";
    case 2:
      return "return";
    case 3:
      return "continue";
    case 4:
    case 5:
      return jumpTarget(g, later) ?? "counter";
    case 6:
      return `meta mark set ${pick(g, [...MARKS, "meta mark | 0x2"])}`;
    case 7:
      return "ct mark set 0x5";
    case 8: {
      const t = later.length === 0 ? "accept" : `jump ${pick(g, later)}`;
      return `tcp dport vmap { 80 : ${pick(g, ["accept", "drop"])}, 443 : ${t}, 8080 : drop }`;
    }
    case 9: {
      const t = later.length === 0 ? "drop" : `goto ${pick(g, later)}`;
      return `numgen random mod 2 vmap { 0 : accept, 1 : ${t} }`;
    }
    case 10:
      return "meta l4proto . th dport vmap @portmap";
    case 11:
      if (kind === "filter")
        return pick(g, family === "inet" ? REJECTS : REJECTS.filter((r) => !r.includes("icmpx")));
      return "counter";
    default:
      if (kind !== "nat") return "counter";
      if (hook === "postrouting")
        return pick(g, ["masquerade", family === "inet" ? "snat ip to 198.18.0.1" : "snat to 198.18.0.1"]);
      return pick(g, [
        `meta l4proto tcp ${ipTo} ${pick(g, DNATS)}`,
        `${ipTo} numgen random mod 2 map { 0 : 198.18.2.1, 1 : 198.18.2.3 }`,
        `meta l4proto tcp ${ipTo} 198.18.2.2:8080`,
      ]);
  }
}

/** The transport protocol a piece of rule text pins (nft refuses a rule that pins two). */
function pinned(text: string): string | undefined {
  if (/\btcp (dport|reset)|l4proto tcp/.test(text)) return "tcp";
  if (/l4proto udp/.test(text)) return "udp";
  return undefined;
}

function rules(
  g: G,
  kind: Kind,
  hook: string,
  later: readonly string[],
  family: string,
  base: boolean,
): string[] {
  const out: string[] = base && kind !== "nat" ? ["ct state established,related accept"] : [];
  const n = g(fc.integer, { min: 0, max: 5 });
  for (let i = 0; i < n; i++) {
    const matches = g(fc.integer, { min: 0, max: 2 });
    const parts: string[] = [];
    for (let m = 0; m < matches; m++) parts.push(match(g, hook));
    const act = action(g, kind, hook, later, family);
    // Keep the parts that agree with the action's protocol, then with each other.
    let proto = pinned(act);
    const kept = parts.filter((p) => {
      const pp = pinned(p);
      if (pp === undefined || proto === undefined || pp === proto) {
        proto ??= pp;
        return true;
      }
      return false;
    });
    out.push([...kept, act].join(" "));
  }
  return out;
}

function table(g: G, index: number): { text: string; rules: number } {
  const kind = pick(g, ["filter", "filter", "prepost", "nat"] as const);
  const family = pick(g, ["ip", "inet"]);
  const regular = g(fc.integer, { min: 0, max: 3 });
  const names = Array.from({ length: regular }, (_, i) => `c${i}`);
  const hooks = HOOKS[kind];
  const baseCount = g(fc.integer, { min: 1, max: 3 });
  const lines: string[] = [
    `table ${family} t${index} {`,
    "  set dstset { type ipv4_addr; flags interval; elements = { 198.18.2.0/31, 198.19.0.10 }; }",
    "  set dstports { type ipv4_addr . inet_service; flags interval; elements = { 198.19.0.0/16 . 80-443, 198.18.2.1 . 8080 }; }",
    `  map portmap { type inet_proto . inet_service : verdict; elements = { tcp . 443 : ${kind === "filter" ? "drop" : "accept"}, udp . 53 : drop, tcp . 8080 : accept }; }`,
  ];
  let count = 0;
  // A hook a regular chain is reached from decides what it may hold: one hook per table keeps it simple.
  const hookOfRegular = pick(g, hooks);
  for (let b = 0; b < baseCount; b++) {
    const hook = b === 0 ? hookOfRegular : pick(g, hooks);
    const prio = pick(g, PRIORITIES[kind]);
    const policy = kind !== "nat" && g(fc.integer, { min: 0, max: 5 }) === 0 ? "drop" : "accept";
    const targets = hook === hookOfRegular ? names : [];
    const rs = rules(g, kind, hook, targets, family, true);
    count += rs.length;
    lines.push(
      `  chain b${b} {`,
      `    type ${kind === "nat" ? "nat" : "filter"} hook ${hook} priority ${prio}; policy ${policy};`,
    );
    for (const r of rs) lines.push(`    ${r}`);
    lines.push("  }");
  }
  names.forEach((name, i) => {
    const rs = rules(g, kind, hookOfRegular, names.slice(i + 1), family, false);
    count += rs.length;
    lines.push(`  chain ${name} {`, ...rs.map((r) => `    ${r}`), "  }");
  });
  lines.push("}");
  return { text: lines.join("\n"), rules: count };
}

/** Random rulesets in nft syntax, loadable by the real nft (the kernel suite loads every one). */
export function randomNftRulesetArb(): fc.Arbitrary<RandomNftRuleset> {
  return fc.gen().map((g) => {
    const n = g(fc.integer, { min: 1, max: 3 });
    const tables = Array.from({ length: n }, (_, i) => table(g, i));
    return {
      text: tables.map((t) => t.text).join("\n"),
      tables: n,
      rules: tables.reduce((a, t) => a + t.rules, 0),
    };
  });
}
