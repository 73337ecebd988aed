import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BUILTIN_CHAINS, TABLE_NAMES, type TableName } from "../model/ruleset.ts";
import { DumpReader } from "./dump-reader.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { parseDump } from "./parse-dump.ts";

/** Runs the full parse (every rule's options too) and lets only DumpSyntaxError escape. */
function parseAll(input: string | string[]): void {
  try {
    const rs = parseDump(input);
    for (const table of rs.tables.values()) {
      for (const chain of table.chains.values()) for (const rule of chain.rules) void rule.spec;
    }
  } catch (error) {
    if (error instanceof DumpSyntaxError) {
      expect(error.line).toBeGreaterThanOrEqual(1);
      expect(error.column).toBeGreaterThanOrEqual(1);
      expect(error.message).toMatch(/^Cannot parse (dump|rule)( at line \d+)?: \S/);
      return;
    }
    throw error;
  }
}

// ---- A model of valid dumps and its exact iptables-save rendering ----

interface GenRule {
  readonly source?: { negated: boolean; value: string };
  readonly protocol?: "tcp" | "udp";
  readonly dport?: number;
  readonly comment?: string;
  readonly target: { name: string; kind: "jump" | "goto" } | undefined;
  readonly counters?: [number, number];
}
interface GenChain {
  readonly name: string;
  readonly builtin: boolean;
  readonly policy?: "ACCEPT" | "DROP";
  readonly rules: GenRule[];
}
interface GenTable {
  readonly name: TableName;
  readonly chains: GenChain[];
}

/** Characters for comments: the safe set, quotes, backslash, spaces, option-like text, unicode. */
const COMMENT_CHARS = fc.constantFrom(
  ..."abcXYZ019_-".split(""),
  " ",
  '"',
  "\\",
  "'",
  "!",
  "/",
  ":",
  "é",
  "☕",
  "𝄞",
  "\t",
);
const comment = fc.string({ unit: COMMENT_CHARS, minLength: 1, maxLength: 40 });
const chainName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,27}$/);
const ip = fc
  .tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 }))
  .map(([a, b, m]) => `10.${a}.${b}.0/${m}`);

function ruleArb(userChains: readonly string[], withCounters: boolean): fc.Arbitrary<GenRule> {
  const targets = fc.oneof(
    fc.constantFrom("ACCEPT", "DROP", "RETURN").map((name) => ({ name, kind: "jump" as const })),
    ...(userChains.length > 0
      ? [
          fc
            .tuple(fc.constantFrom(...userChains), fc.boolean())
            .map(([name, g]) => ({ name, kind: g ? ("goto" as const) : ("jump" as const) })),
        ]
      : []),
  );
  return fc.record(
    {
      source: fc.record({ negated: fc.boolean(), value: ip }),
      protocol: fc.constantFrom("tcp" as const, "udp" as const),
      dport: fc.integer({ min: 1, max: 65535 }),
      comment,
      target: fc.option(targets, { nil: undefined }),
      counters: withCounters ? fc.tuple(fc.nat(), fc.nat()) : fc.constant(undefined),
    },
    { requiredKeys: ["target"] },
  ) as fc.Arbitrary<GenRule>;
}

const tableArb = (name: TableName, withCounters: boolean): fc.Arbitrary<GenTable> =>
  fc
    .uniqueArray(chainName, { maxLength: 5 })
    .map((names) => names.filter((n) => !BUILTIN_CHAINS[name].includes(n)).sort())
    .chain((users) => {
      const chainArb = (chain: string, builtin: boolean) =>
        fc.record({
          name: fc.constant(chain),
          builtin: fc.constant(builtin),
          policy: builtin ? fc.constantFrom("ACCEPT" as const, "DROP" as const) : fc.constant(undefined),
          rules: fc.array(ruleArb(users, withCounters), { maxLength: 6 }),
        });
      return fc
        .tuple(...BUILTIN_CHAINS[name].map((c) => chainArb(c, true)), ...users.map((c) => chainArb(c, false)))
        .map((chains) => ({ name, chains: chains as GenChain[] }));
    });

const dumpArb = fc
  .boolean()
  .chain((withCounters) =>
    fc
      .shuffledSubarray([...TABLE_NAMES], { minLength: 1 })
      .chain((names) => fc.tuple(...names.map((n) => tableArb(n, withCounters)))),
  );

/** xtables_save_string(): unquoted only when every character is in [A-Za-z0-9_-]. */
function saveString(value: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

function ruleText(chain: string, r: GenRule): string {
  const parts = [`-A ${chain}`];
  if (r.source !== undefined) parts.push(`${r.source.negated ? "! " : ""}-s ${r.source.value}`);
  if (r.protocol !== undefined) parts.push(`-p ${r.protocol}`);
  if (r.comment !== undefined) parts.push(`-m comment --comment ${saveString(r.comment)}`);
  if (r.protocol !== undefined && r.dport !== undefined) parts.push(`-m ${r.protocol} --dport ${r.dport}`);
  if (r.target !== undefined) parts.push(`${r.target.kind === "goto" ? "-g" : "-j"} ${r.target.name}`);
  return parts.join(" ");
}

interface Rendered {
  readonly text: string;
  /** Per rule in output order: table, chain, raw line, line number. */
  readonly rules: { table: TableName; chain: string; raw: string; line: number; rule: GenRule }[];
}

function render(tables: readonly GenTable[]): Rendered {
  const lines: string[] = [];
  const rules: Rendered["rules"] = [];
  for (const t of tables) {
    lines.push("# Generated by iptables-save v1.8.9 on Wed Nov 25 08:18:56 2026", `*${t.name}`);
    for (const c of t.chains) lines.push(`:${c.name} ${c.builtin ? c.policy : "-"} [0:0]`);
    for (const c of t.chains) {
      for (const r of c.rules) {
        const raw =
          (r.counters === undefined ? "" : `[${r.counters[0]}:${r.counters[1]}] `) + ruleText(c.name, r);
        lines.push(raw);
        rules.push({ table: t.name, chain: c.name, raw, line: lines.length, rule: r });
      }
    }
    lines.push("COMMIT", "# Completed on Wed Nov 25 08:18:56 2026");
  }
  return { text: `${lines.join("\n")}\n`, rules };
}

describe("parseDump() properties", () => {
  test("parseDump() throws nothing but DumpSyntaxError for arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => parseAll(s)),
      { numRuns: 500 },
    );
  });

  test("parseDump() throws nothing but DumpSyntaxError for arbitrary bytes decoded as UTF-8", () => {
    const decoder = new TextDecoder();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => parseAll(decoder.decode(bytes))),
      { numRuns: 500 },
    );
  });

  test("parseDump() throws nothing but DumpSyntaxError for text made of dump tokens", () => {
    const token = fc.constantFrom(
      "*nat",
      "*filter",
      "COMMIT",
      ":INPUT ACCEPT [0:0]",
      ":PREROUTING DROP [1:2]",
      ":X - [0:0]",
      "-A",
      "INPUT",
      "X",
      "PREROUTING",
      "-j",
      "-g",
      "-m",
      "comment",
      "--comment",
      '"',
      "\\",
      "!",
      "-s",
      "1.2.3.4",
      "-p",
      "tcp",
      "--dport",
      "80",
      "[0:0]",
      "-P",
      "-N",
      "-c",
      "1",
      "#",
      "\n",
      " ",
      "\r\n",
      "tcp",
      "--rcheck",
      "-f",
      "'",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (tokens) => parseAll(tokens.join(""))),
      { numRuns: 1000 },
    );
  });

  test("parseDump() throws nothing but DumpSyntaxError for mutations of valid dumps", () => {
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("delete" as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 20 }),
      }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        text: fc.constantFrom(
          '"',
          "\\",
          "!",
          " ",
          "\n",
          "*",
          ":",
          "[",
          "#",
          "\0",
          "\r",
          "-A ",
          "COMMIT\n",
          " ! ",
        ),
      }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("duplicate-line" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(dumpArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (tables, mutations) => {
        let text = render(tables).text;
        for (const m of mutations) {
          const at = m.at % (text.length + 1);
          switch (m.kind) {
            case "delete":
              text = text.slice(0, at) + text.slice(at + m.length);
              break;
            case "insert":
              text = text.slice(0, at) + m.text + text.slice(at);
              break;
            case "truncate":
              text = text.slice(0, at);
              break;
            case "duplicate-line": {
              const lines = text.split("\n");
              const k = at % lines.length;
              lines.splice(k, 0, lines[k]!);
              text = lines.join("\n");
              break;
            }
            default: {
              const never: never = m;
              throw new TypeError(String(never));
            }
          }
        }
        parseAll(text);
      }),
      { numRuns: 500 },
    );
  });

  test("parseDump() round-trips generated dumps: counts, chains, raw text, lines and parsed values", () => {
    fc.assert(
      fc.property(dumpArb, fc.integer({ min: 1, max: 97 }), (tables, chunkSize) => {
        const { text, rules } = render(tables);
        // Parse from chunks of arbitrary size: lines and characters may be split anywhere.
        const chunks: string[] = [];
        for (let i = 0; i < text.length; i += chunkSize) chunks.push(text.slice(i, i + chunkSize));
        const rs = parseDump(chunks);
        expect(rs.warnings).toEqual([]);
        expect(rs.ruleCount).toBe(rules.length);
        expect([...rs.tables.keys()]).toEqual(tables.map((t) => t.name));
        for (const t of tables) {
          const table = rs.tables.get(t.name)!;
          expect([...table.chains.keys()]).toEqual(t.chains.map((c) => c.name));
          for (const c of t.chains) {
            const chain = table.chains.get(c.name)!;
            expect(chain.policy).toBe(c.policy);
            expect(chain.rules).toHaveLength(c.rules.length);
          }
        }
        const parsed = [...rs.tables.values()].flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules));
        expect(parsed.map((r) => [r.table, r.chain, r.raw, r.line])).toEqual(
          rules.map((r) => [r.table, r.chain, r.raw, r.line]),
        );
        parsed.forEach((p, k) => {
          const want = rules[k]!.rule;
          expect(p.spec.comment).toBe(want.comment);
          expect(p.spec.source).toEqual(want.source);
          expect(
            p.spec.target === undefined ? undefined : { name: p.spec.target.name, kind: p.spec.target.kind },
          ).toEqual(want.target);
          expect(p.counters).toEqual(
            want.counters === undefined
              ? undefined
              : { packets: String(want.counters[0]), bytes: String(want.counters[1]) },
          );
          if (want.dport !== undefined && want.protocol !== undefined) {
            expect(p.spec.matches.find((mm) => mm.module === want.protocol)?.options).toEqual([
              { name: "--dport", negated: false, values: [String(want.dport)] },
            ]);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  test("DumpReader counts the same rules as parseDump() on generated dumps", () => {
    fc.assert(
      fc.property(dumpArb, (tables) => {
        const { text, rules } = render(tables);
        let seen = 0;
        const reader = new DumpReader({ rule: () => void seen++ });
        reader.push(text);
        reader.end();
        expect(seen).toBe(rules.length);
        expect(reader.ruleCount).toBe(rules.length);
      }),
      { numRuns: 100 },
    );
  });
});
