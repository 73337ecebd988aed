/**
 * Property: removing what the planner removes never changes what the ruleset does. Checked against a
 * small reference interpreter of netfilter semantics (jumps, gotos, RETURN, policy, MARK xmark, LOG
 * events, per-rule `statistic --mode nth` counters) over every packet of a small domain, twice in a
 * row so per-rule state matters. The rulesets are random, with injected copies of every kind,
 * including the ones that must stay.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Rule, Ruleset } from "../model/ruleset.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { filterDumpText } from "../testing/random-filter-dump.ts";
import { planDuplicates } from "./plan-duplicates.ts";
import { removedLines } from "./render-restore.ts";

const USER = ["U0", "U1", "U2"];
const CHAINS = ["FORWARD", ...USER];

type MatchGen =
  | { k: "none" }
  | { k: "src"; x: number }
  | { k: "dport"; p: number }
  | { k: "mark"; v: number; m: number }
  | { k: "nth" }
  | { k: "comment" };
type TargetGen =
  | { k: "ACCEPT" | "DROP" | "RETURN" | "none" }
  | { k: "jump" | "goto"; to: number }
  | { k: "mark"; v: number; m: number }
  | { k: "log"; n: number };

const matchArb: fc.Arbitrary<MatchGen> = fc.oneof(
  fc.constant({ k: "none" as const }),
  fc.record({ k: fc.constant("src" as const), x: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant("dport" as const), p: fc.constantFrom(80, 443) }),
  fc.record({
    k: fc.constant("mark" as const),
    v: fc.integer({ min: 0, max: 3 }),
    m: fc.integer({ min: 0, max: 3 }),
  }),
  fc.constant({ k: "nth" as const }),
  fc.constant({ k: "comment" as const }),
);
const targetArb: fc.Arbitrary<TargetGen> = fc.oneof(
  fc.constantFrom(
    { k: "ACCEPT" as const },
    { k: "DROP" as const },
    { k: "RETURN" as const },
    { k: "none" as const },
  ),
  fc.record({ k: fc.constantFrom("jump" as const, "goto" as const), to: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    k: fc.constant("mark" as const),
    v: fc.integer({ min: 0, max: 3 }),
    m: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ k: fc.constant("log" as const), n: fc.integer({ min: 0, max: 2 }) }),
);

function ruleText(chainIdx: number, m: MatchGen, t: TargetGen): string {
  const chain = CHAINS[chainIdx]!;
  const parts = [`-A ${chain}`];
  switch (m.k) {
    case "src":
      parts.push(`-s 198.18.0.${m.x}/32`);
      break;
    case "dport":
      parts.push(`-p tcp -m tcp --dport ${m.p}`);
      break;
    case "mark":
      parts.push(`-m mark --mark 0x${(m.v & m.m).toString(16)}/0x${m.m.toString(16)}`);
      break;
    case "nth":
      parts.push("-m statistic --mode nth --every 2 --packet 0");
      break;
    case "comment":
      parts.push('-m comment --comment "c"');
      break;
    case "none":
      break;
  }
  switch (t.k) {
    case "ACCEPT":
    case "DROP":
    case "RETURN":
      parts.push(`-j ${t.k}`);
      break;
    case "jump":
    case "goto": {
      // Only forward jumps (to a later user chain): the kernel refuses loops.
      const to = Math.max(t.to, chainIdx); // user chain index (0-based in USER) > chainIdx - 1
      if (to >= USER.length) parts.push("-j ACCEPT");
      else parts.push(`${t.k === "jump" ? "-j" : "-g"} ${USER[to]}`);
      break;
    }
    case "mark":
      parts.push(`-j MARK --set-xmark 0x${t.v.toString(16)}/0x${t.m.toString(16)}`);
      break;
    case "log":
      parts.push(`-j LOG --log-prefix "p${t.n}"`);
      break;
    case "none":
      break;
  }
  return parts.join(" ");
}

/** Only marks, idempotent MARKs, verdicts and jumps: the cases where the subtle checks decide. */
const markMatchArb: fc.Arbitrary<MatchGen> = fc.oneof(
  fc.constant({ k: "none" as const }),
  fc.record({ k: fc.constant("src" as const), x: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    k: fc.constant("mark" as const),
    v: fc.integer({ min: 0, max: 3 }),
    m: fc.integer({ min: 1, max: 3 }),
  }),
);
const markTargetArb: fc.Arbitrary<TargetGen> = fc.oneof(
  fc.constantFrom({ k: "ACCEPT" as const }, { k: "RETURN" as const }),
  fc.record({ k: fc.constantFrom("jump" as const, "goto" as const), to: fc.integer({ min: 0, max: 2 }) }),
  fc
    .record({
      k: fc.constant("mark" as const),
      v: fc.integer({ min: 0, max: 3 }),
      m: fc.integer({ min: 1, max: 3 }),
    })
    .map((t) => ({ ...t, v: t.v & t.m })),
);

const rulesetArb = (matches: fc.Arbitrary<MatchGen>, targets: fc.Arbitrary<TargetGen>) =>
  fc
    .record({
      chains: fc.tuple(...CHAINS.map(() => fc.array(fc.tuple(matches, targets), { maxLength: 6 }))),
      copies: fc.array(fc.tuple(fc.nat(3), fc.nat(20), fc.nat(20)), { maxLength: 10 }),
    })
    .map(({ chains, copies }) => {
      const lines = chains.map((rules, ci) => rules.map(([m, t]) => ruleText(ci, m, t)));
      for (const [ci, from, gap] of copies) {
        const list = lines[ci]!;
        if (list.length === 0) continue;
        const src = from % list.length;
        const at = src + 1 + (gap % (list.length - src)); // right after, or further down
        list.splice(at, 0, list[src]!);
      }
      return filterDumpText(USER, lines.flat());
    });

interface Packet {
  src: string;
  dport: number;
  mark: number;
}

/** Reference interpreter: outcome strings for a sequence of packets, with per-rule nth counters. */
function run(rs: Ruleset, packets: readonly Packet[]): string[] {
  const table = rs.tables.get("filter")!;
  const counters = new Map<Rule, number>();
  const out: string[] = [];
  for (const p0 of packets) {
    const p = { ...p0 };
    const events: string[] = [];
    const call = (name: string): string => {
      for (const r of table.chains.get(name)!.rules) {
        const s = r.spec;
        if (s.source !== undefined && s.source.value !== `${p.src}/32`) continue;
        let matched = true;
        for (const m of s.matches) {
          const opt = (n: string) => m.options.find((o) => o.name === n)?.values[0];
          if (m.module === "tcp") matched = Number(opt("--dport")) === p.dport;
          else if (m.module === "mark") {
            const [v, mk] = opt("--mark")!.split("/").map(Number) as [number, number];
            matched = (p.mark & mk) === v;
          } else if (m.module === "statistic") {
            const c = ((counters.get(r) ?? 0) + 1) % 2;
            counters.set(r, c);
            matched = c === 0;
          }
          if (!matched) break;
        }
        if (!matched) continue;
        const t = s.target;
        if (t === undefined) continue;
        const arg = t.options[0]?.values[0];
        switch (t.name) {
          case "ACCEPT":
          case "DROP":
            return t.name;
          case "RETURN":
            return "return";
          case "MARK": {
            const [v, mk] = arg!.split("/").map(Number) as [number, number];
            p.mark = ((p.mark & ~mk) ^ v) >>> 0;
            continue;
          }
          case "LOG":
            events.push(arg!);
            continue;
          default: {
            const res = call(t.name);
            if (t.kind === "goto") return res;
            if (res !== "return") return res;
          }
        }
      }
      return "return";
    };
    const v = call("FORWARD");
    out.push(
      `${v === "return" ? `${table.chains.get("FORWARD")!.policy}(policy)` : v} mark=${p.mark} log=${events.join(",")}`,
    );
  }
  return out;
}

const PACKETS: Packet[] = [];
for (const src of ["198.18.0.1", "198.18.0.2", "198.18.0.3"])
  for (const dport of [80, 443]) for (let mark = 0; mark < 4; mark++) PACKETS.push({ src, dport, mark });
const SEQUENCE = [...PACKETS, ...PACKETS];

function withoutLines(text: string, lines: ReadonlySet<number>): string {
  return text
    .split("\n")
    .filter((_, i) => !lines.has(i + 1))
    .join("\n");
}

describe("planDuplicates (property-based)", () => {
  const cases: [string, fc.Arbitrary<string>][] = [
    ["any rule", rulesetArb(matchArb, targetArb)],
    ["marks and jumps only", rulesetArb(markMatchArb, markTargetArb)],
  ];
  it.each(cases)(
    "never changes the outcome of any packet, and never removes a stateful, logging or xor copy (%s)",
    (_, arb) => {
      let removedTotal = 0;
      let keptTotal = 0;
      fc.assert(
        fc.property(arb, (text) => {
          const rs = parseDump(text);
          const plan = planDuplicates(rs);
          removedTotal += plan.removed;
          keptTotal += plan.kept;
          for (const g of plan.removedGroups) {
            expect(g.rule).not.toMatch(/statistic|LOG/);
            const xm = /--set-xmark 0x(\w+)\/0x(\w+)/.exec(g.rule);
            if (xm !== null) expect(Number.parseInt(xm[1]!, 16) & ~Number.parseInt(xm[2]!, 16)).toBe(0);
          }
          const gone = removedLines(rs, plan);
          expect(gone.size).toBe(plan.removed);
          const cleaned = parseDump(withoutLines(text, gone));
          expect(cleaned.ruleCount).toBe(plan.after);
          expect(run(cleaned, SEQUENCE)).toEqual(run(rs, SEQUENCE));
        }),
        { numRuns: 1000, seed: 3117 },
      );
      // The property must not hold vacuously: the generator produces both kinds.
      expect(removedTotal).toBeGreaterThan(100);
      expect(keptTotal).toBeGreaterThan(100);
    },
  );

  it("the reference interpreter sees the difference when a must-keep copy is dropped", () => {
    // Guards the guard: dropping the second copy of a mark-dependent ACCEPT after a MARK changes outcomes.
    const text = [
      "*filter",
      ":INPUT ACCEPT [0:0]",
      ":FORWARD DROP [0:0]",
      ":OUTPUT ACCEPT [0:0]",
      "-A FORWARD -m mark --mark 0x1/0x1 -j ACCEPT",
      "-A FORWARD -j MARK --set-xmark 0x1/0x1",
      "-A FORWARD -m mark --mark 0x1/0x1 -j ACCEPT",
      "COMMIT",
      "",
    ].join("\n");
    const rs = parseDump(text);
    expect(planDuplicates(rs).removed).toBe(0);
    expect(run(parseDump(withoutLines(text, new Set([7]))), SEQUENCE)).not.toEqual(run(rs, SEQUENCE));
  });
});
