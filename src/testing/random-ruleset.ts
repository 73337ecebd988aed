/**
 * fast-check arbitraries for random but loadable iptables rulesets over the oracle topology
 * (trace-oracle.ts): jumps and gotos between user chains (acyclic), RETURN, negations, marks, DNAT,
 * SNAT/MASQUERADE, REJECT variants, DROP, random statistic branches and recent.
 *
 * Every filter built-in chain starts with an ESTABLISHED,RELATED accept, so replies and ICMP errors
 * always pass: the kernel's answer then depends only on the first packet, which is what the tracer
 * follows.
 */
import fc from "fast-check";
import { restoreText } from "./trace-oracle.ts";

type Ctx = "pre" | "in" | "fwd" | "out" | "post" | "any";

const SRC = [
  "198.18.1.2/32",
  "198.18.1.0/24",
  "198.18.0.0/16",
  "198.18.0.1/32",
  "198.19.0.0/16",
  "198.18.1.3/32",
];
const DST = [
  "198.19.0.10/32",
  "198.19.0.0/16",
  "198.18.2.1/32",
  "198.18.2.0/24",
  "198.18.0.1/32",
  "198.19.0.20/32",
];
const DPORTS = ["80", "443", "8080", "80:443", "1:100", "30080"];
/**
 * Source-port matches use ranges aligned to 50-port classes (see SOURCE_PORT_CLASSES): every port of
 * a class is equivalent for every rule, so the oracle can use a fresh port per attempt and never meet
 * a stale conntrack entry of an earlier case.
 */
const SPORTS = ["40000:40099", "40100:40199", "40050:40149", "40150"];

/** Equivalence classes of source ports for the rules above ([lo, hi], inclusive). */
export const SOURCE_PORT_CLASSES: ReadonlyArray<readonly [number, number]> = [
  [40000, 40049],
  [40050, 40099],
  [40100, 40149],
  [40151, 40199],
  [40200, 40249],
];
const MARKS = ["0x1/0x1", "0x2/0x3", "0x4000/0x4000", "0x3"];
const REJECTS = [
  "icmp-net-unreachable",
  "icmp-host-unreachable",
  "icmp-port-unreachable",
  "icmp-proto-unreachable",
  "icmp-net-prohibited",
  "icmp-host-prohibited",
  "icmp-admin-prohibited",
  "tcp-reset",
];
const DNATS = [
  "198.18.2.1:8080",
  "198.18.2.2",
  "198.19.0.20:443",
  "198.18.0.1:80",
  "198.18.2.3:80",
  "198.19.0.21",
];
const MARK_OPS = [
  "--set-xmark 0x1/0x1",
  "--set-xmark 0x2/0xffffffff",
  "--or-mark 0x2",
  "--and-mark 0xfffffffe",
  "--xor-mark 0x3",
  "--set-mark 0x4000/0x4000",
];

const neg = fc.boolean().map((b) => (b ? "! " : ""));
const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);

/** One match fragment; `tcp` is set when it needs `-p tcp`. */
function matchArb(
  ctx: Ctx,
): fc.Arbitrary<{ text: string; tcp?: boolean; statistic?: boolean; recent?: boolean }> {
  const options: Array<fc.Arbitrary<{ text: string; tcp?: boolean; statistic?: boolean; recent?: boolean }>> =
    [
      fc.tuple(neg, pick(SRC)).map(([n, s]) => ({ text: `${n}-s ${s}` })),
      fc.tuple(neg, pick(DST)).map(([n, d]) => ({ text: `${n}-d ${d}` })),
      fc.tuple(neg, pick(DPORTS)).map(([n, p]) => ({ text: `-m tcp ${n}--dport ${p}`, tcp: true })),
      fc.tuple(neg, pick(SPORTS)).map(([n, p]) => ({ text: `-m tcp ${n}--sport ${p}`, tcp: true })),
      fc
        .tuple(neg, pick(["80,8080", "443,30080", "1:79,81"]))
        .map(([n, p]) => ({ text: `-m multiport ${n}--dports ${p}`, tcp: true })),
      fc.tuple(neg, pick(MARKS)).map(([n, m]) => ({ text: `-m mark ${n}--mark ${m}` })),
      fc
        .tuple(neg, pick(["--dst-type LOCAL", "--src-type LOCAL", "--dst-type MULTICAST,LOCAL"]))
        .map(([n, t]) => {
          const [opt, type] = t.split(" ");
          return { text: `-m addrtype ${n}${opt} ${type}` };
        }),
      fc
        .tuple(neg, pick(["NEW", "DNAT", "NEW,RELATED", "ESTABLISHED"]))
        .map(([n, s]) => ({ text: `-m conntrack ${n}--ctstate ${s}` })),
      fc.constant({ text: `-m statistic --mode random --probability 0.5`, statistic: true }),
      fc.constant({ text: `-m comment --comment "random rule"` }),
      // recent keeps state across attempts (each attempt then needs a fresh load): keep it rare.
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), neg, pick(["R1", "R2"]), pick(["--set", "--rcheck"]))
        .map(([w, n, name, op]) =>
          w === 0
            ? { text: `-m recent ${op === "--set" ? "" : n}${op} --name ${name}`, recent: true }
            : { text: `-m comment --comment "random rule"` },
        ),
      fc.constant({ text: "-p tcp", tcp: true }),
    ];
  if (ctx === "pre" || ctx === "in" || ctx === "fwd" || ctx === "any") {
    options.push(
      fc.tuple(neg, pick(["nd-p+", "nd-p0", "nd-p1", "nd-+"])).map(([n, i]) => ({ text: `${n}-i ${i}` })),
    );
  }
  if (ctx === "fwd" || ctx === "out" || ctx === "post" || ctx === "any") {
    options.push(
      fc.tuple(neg, pick(["nd-w", "nd-s+", "nd-s0", "lo"])).map(([n, o]) => ({ text: `${n}-o ${o}` })),
    );
  }
  return fc.oneof(...options);
}

type TargetKind = "filter" | "natpre" | "natpost" | "mangle";

function targetArb(
  kind: TargetKind,
  chains: readonly string[],
): fc.Arbitrary<{ text: string; tcp?: boolean }> {
  const jumps =
    chains.length === 0
      ? []
      : [fc.tuple(pick(["-j", "-g"]), pick(chains)).map(([j, c]) => ({ text: `${j} ${c}` }))];
  const common = [
    fc.constant({ text: "-j RETURN" }),
    fc.constant({ text: "-j ACCEPT" }),
    pick(MARK_OPS).map((m) => ({ text: `-j MARK ${m}` })),
    fc.constant({ text: "" }),
    ...jumps,
    ...jumps,
  ];
  switch (kind) {
    case "filter":
      return fc.oneof(
        ...common,
        fc.constant({ text: "-j DROP" }),
        pick(REJECTS).map((r) => ({ text: `-j REJECT --reject-with ${r}`, tcp: r === "tcp-reset" })),
        pick(REJECTS).map((r) => ({ text: `-j REJECT --reject-with ${r}`, tcp: r === "tcp-reset" })),
      );
    case "natpre":
      return fc.oneof(
        ...common,
        // A port in --to-destination needs -p tcp in the rule.
        pick(DNATS).map((d) => ({ text: `-j DNAT --to-destination ${d}`, tcp: d.includes(":") })),
        pick(DNATS).map((d) => ({ text: `-j DNAT --to-destination ${d}`, tcp: d.includes(":") })),
      );
    case "natpost":
      return fc.oneof(
        ...common,
        fc.constant({ text: "-j MASQUERADE" }),
        fc.constant({ text: "-j SNAT --to-source 198.18.0.1" }),
      );
    case "mangle":
      return fc.oneof(...common);
    default: {
      const never: never = kind;
      throw new TypeError(`Unknown kind ${String(never)}`);
    }
  }
}

function ruleArb(
  chain: string,
  ctx: Ctx,
  kind: TargetKind,
  jumpable: readonly string[],
): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(matchArb(ctx), { maxLength: 3 }), targetArb(kind, jumpable))
    .map(([matches, target]) => {
      const needTcp = matches.some((m) => m.tcp) || target.tcp === true;
      // iptables allows one -s/-d/-i/-o per rule: keep the first of each.
      const seen = new Set<string>();
      const parts: string[] = [];
      for (const m of matches) {
        const key = /^(?:! )?(-[sdio]) /.exec(m.text)?.[1] ?? m.text.split(" ")[1] ?? m.text;
        if (seen.has(key) || m.text === "-p tcp") continue;
        seen.add(key);
        parts.push(m.text);
      }
      return `-A ${chain}${needTcp ? " -p tcp" : ""}${parts.length ? ` ${parts.join(" ")}` : ""}${target.text ? ` ${target.text}` : ""}`;
    });
}

function chainRules(
  chain: string,
  ctx: Ctx,
  kind: TargetKind,
  jumpable: readonly string[],
  max: number,
): fc.Arbitrary<string[]> {
  return fc.array(ruleArb(chain, ctx, kind, jumpable), { maxLength: max });
}

export interface RandomRuleset {
  readonly text: string;
  /** True when the ruleset keeps state across packets (recent): probe a freshly loaded copy. */
  readonly stateful: boolean;
}

const ESTABLISHED = (chain: string) => `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`;

/** A random loadable ruleset over the oracle topology, with at most two random branch points. */
export function randomRulesetArb(): fc.Arbitrary<RandomRuleset> {
  return fc
    .record({
      input: chainRules("INPUT", "in", "filter", ["F1", "F2", "F3"], 4),
      forward: chainRules("FORWARD", "fwd", "filter", ["F1", "F2", "F3"], 5),
      output: chainRules("OUTPUT", "out", "filter", ["F1", "F2", "F3"], 4),
      f1: chainRules("F1", "any", "filter", ["F2", "F3"], 4),
      f2: chainRules("F2", "any", "filter", ["F3"], 3),
      f3: chainRules("F3", "any", "filter", [], 3),
      pre: chainRules("PREROUTING", "pre", "natpre", ["N1", "N2"], 4),
      natOut: chainRules("OUTPUT", "out", "natpre", ["N1", "N2"], 3),
      n1: chainRules("N1", "any", "natpre", ["N2"], 3),
      n2: chainRules("N2", "any", "natpre", [], 3),
      post: chainRules("POSTROUTING", "post", "natpost", ["P1"], 3),
      p1: chainRules("P1", "post", "natpost", [], 2),
      manglePre: chainRules("PREROUTING", "pre", "mangle", ["M1"], 2),
      mangleOut: chainRules("OUTPUT", "out", "mangle", ["M1"], 2),
      mangleFwd: chainRules("FORWARD", "fwd", "mangle", ["M1"], 2),
      m1: chainRules("M1", "any", "mangle", [], 2),
      policies: fc.tuple(
        pick(["ACCEPT", "DROP"] as const),
        pick(["ACCEPT", "DROP"] as const),
        pick(["ACCEPT", "DROP"] as const),
      ),
    })
    .map((r) => {
      const filter = [
        ESTABLISHED("INPUT"),
        ...r.input,
        ESTABLISHED("FORWARD"),
        ...r.forward,
        ESTABLISHED("OUTPUT"),
        ...r.output,
        ...r.f1,
        ...r.f2,
        ...r.f3,
        "-A F1 -m comment --comment declared",
        "-A F2 -m comment --comment declared",
        "-A F3 -m comment --comment declared",
      ];
      const nat = [
        ...r.pre,
        ...r.natOut,
        ...r.n1,
        ...r.n2,
        ...r.post,
        ...r.p1,
        "-A N1 -m comment --comment declared",
        "-A N2 -m comment --comment declared",
        "-A P1 -m comment --comment declared",
      ];
      const mangle = [
        ...r.manglePre,
        ...r.mangleOut,
        ...r.mangleFwd,
        ...r.m1,
        "-A M1 -m comment --comment declared",
      ];
      // At most two statistic matches: every path then has probability >= 1/4 and bounded repetition finds it.
      let statistics = 0;
      const limit = (lines: string[]) =>
        lines.map((l) =>
          l.includes("-m statistic") && ++statistics > 2
            ? l.replace(" -m statistic --mode random --probability 0.5", "")
            : l,
        );
      const all = { filter: limit(filter), nat: limit(nat), mangle: limit(mangle) };
      const text = restoreText(all, {
        "filter/INPUT": r.policies[0],
        "filter/FORWARD": r.policies[1],
        "filter/OUTPUT": r.policies[2],
      });
      return { text, stateful: text.includes("-m recent") };
    });
}
