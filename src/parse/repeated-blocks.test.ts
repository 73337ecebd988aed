/**
 * A leak's repeated blocks, handed on at once (DumpHandler.repeatRules), against statements made
 * without the reader: the lines of the dump text itself (split and counted here with a Map), and a
 * hand-worked example of which lines repeat.
 */
import { describe, expect, test } from "vitest";
import { RuleSignatureScanner } from "../known-bugs/rule-signatures.ts";
import { type Chain, chainLength } from "../model/ruleset.ts";
import { NodeScanner } from "../scan/scan-node.ts";
import { prng } from "../testing/prng.ts";
import { composeHandlers } from "./compose-handlers.ts";
import type { DumpHandler, RuleBlock } from "./dump-handler.ts";
import { DumpReader } from "./dump-reader.ts";
import { RulesetBuilder } from "./parse-dump.ts";

const CHAINS = ["INPUT", "KUBE-FIREWALL", "CNI-HOSTPORT-MASQ", "KUBE-ROUTER-INPUT", "FLANNEL-FWD"];
/** Rule bodies after `-A CHAIN`, some of them known-bug signatures (see rule-signatures.ts). */
const BODIES = [
  "-j ACCEPT",
  '-s 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
  '-m comment --comment "kubernetes firewall for dropping marked packets" -j DROP',
  "-j MASQUERADE",
  "-m foo [unsupported revision] -j RETURN",
  "-p tcp -m multiport --dports 22,80 -j ACCEPT",
];

/** A dump whose filter table is runs of random rules and of blocks written many times (some cut short). */
function leakyDump(seed: number, options: { crlf?: boolean; counters?: boolean } = {}): string {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const rule = (): string => {
    const chain = pick(CHAINS);
    const prefix = options.counters ? (rnd() < 0.7 ? "[0:0] " : `[${Math.floor(rnd() * 3)}:9] `) : "";
    return `${prefix}-A ${chain} ${pick(BODIES)}`;
  };
  const lines = ["*filter", ...CHAINS.map((c, i) => (i === 0 ? `:${c} ACCEPT [0:0]` : `:${c} - [0:0]`))];
  for (let segment = 0; segment < 60; segment++) {
    if (rnd() < 0.3) {
      for (let i = Math.floor(rnd() * 5); i > 0; i--) lines.push(rule());
      continue;
    }
    const block = Array.from({ length: 1 + Math.floor(rnd() * 4) }, rule);
    const copies = 1 + Math.floor(rnd() * 40);
    for (let c = 0; c < copies; c++) lines.push(...block);
    if (rnd() < 0.3) lines.push(...block.slice(0, Math.floor(rnd() * block.length)));
  }
  lines.push("COMMIT", "*nat", ":PREROUTING ACCEPT [0:0]", "-A PREROUTING -j ACCEPT", "COMMIT", "");
  return lines.join(options.crlf ? "\r\n" : "\n");
}

/** The same handler without `repeatRules`: the reader then hands every copy on one by one. */
function oneByOne(handler: DumpHandler): DumpHandler {
  const { repeatRules: _, ...rest } = handler;
  return rest;
}

/** Reads `text` in chunks of `chunk` bytes through a scanner, a parser and signature checks. */
function readAll(text: string, chunk: number, blocks: boolean, buffer = false) {
  const scanner = new NodeScanner();
  const builder = new RulesetBuilder({ lazy: true });
  const signatures = new RuleSignatureScanner();
  const handlers = [builder.handler, scanner.handler, signatures.handler];
  let copies = 0;
  const counting: DumpHandler = {
    ruleView: () => {},
    repeatRules: (b: RuleBlock) => {
      copies += b.rules * b.times;
    },
  };
  const reader = new DumpReader(
    composeHandlers(...(blocks ? [...handlers, counting] : handlers.map(oneByOne))),
  );
  // A Node Buffer is compared by memcmp, other arrays in JavaScript (see sameSpan).
  const bytes = buffer ? Buffer.from(text) : new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += chunk) reader.push(bytes.subarray(at, at + chunk));
  reader.end();
  const ruleset = builder.finish(reader);
  const scan = scanner.finish({ node: "n", file: "f", header: reader.header });
  return { ruleset, scan, hits: signatures.hits, copies, rules: reader.ruleCount, lines: reader.lineCount };
}

/** Per chain, `line<TAB>raw` of each rule, straight from the text. */
function chainsOfText(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = "";
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.startsWith("*")) table = raw.slice(1);
    const m = /^(?:\[\d+:\d+\] )?-A (\S+)/.exec(raw);
    if (m === null) return;
    const key = `${table} ${m[1]}`;
    out.set(key, [...(out.get(key) ?? []), `${i + 1}\t${raw}`]);
  });
  return out;
}

/** Copies per (table, text) seen more than once, with their first five lines, straight from the text. */
function duplicatesOfText(text: string): string[] {
  const seen = new Map<string, number[]>();
  let table = "";
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.startsWith("*")) table = raw.slice(1);
    const m = /^(?:\[\d+:\d+\] )?(-A .*)$/.exec(raw);
    if (m === null) return;
    const key = `${table}\t${m[1]}`;
    seen.set(key, [...(seen.get(key) ?? []), i + 1]);
  });
  return [...seen]
    .filter(([, l]) => l.length > 1)
    .map(([k, l]) => `${l.length}\t${k}\t${l.slice(0, 5).join(",")}`)
    .sort();
}

/** What a reader hands on for `text`: each rule read, and each block with its copies. */
function handedOn(text: string): { seen: string[]; reader: DumpReader } {
  const seen: string[] = [];
  const reader = new DumpReader({
    ruleView: (v) => {
      seen.push(`${v.line} ${v.text}`);
    },
    repeatRules: (b) => {
      seen.push(`block of ${b.rules} [${[...b.chains].join(",")}] x${b.times} from line ${b.firstLine}`);
    },
  });
  reader.push(text);
  reader.end();
  return { seen, reader };
}

describe("repeated blocks", () => {
  test("DumpReader hands on a block read twice, with the copies that follow it", () => {
    const text = `*filter\n:X - [0:0]\n:Y - [0:0]\n${"-A X -j A\n-A Y -j B\n".repeat(6)}-A X -j C\nCOMMIT\n`;
    const { seen, reader } = handedOn(text);
    // Lines 4-7 are read one by one (the block twice); lines 8-15 are its four more copies.
    expect(seen).toEqual([
      "4 -A X -j A",
      "5 -A Y -j B",
      "6 -A X -j A",
      "7 -A Y -j B",
      "block of 2 [0,1] x4 from line 8",
      "16 -A X -j C",
    ]);
    expect(reader.ruleCount).toBe(13);
    expect(reader.lineCount).toBe(17);
  });

  test("after a line that breaks a leak's block, the block is taken again once read once", () => {
    const pairs = (n: number) => "-A X -j A\n-A Y -j B\n".repeat(n);
    const text = `*filter\n:X - [0:0]\n:Y - [0:0]\n:Z - [0:0]\n${pairs(6)}-A Z -j C\n${pairs(6)}COMMIT\n`;
    const { seen, reader } = handedOn(text);
    // Lines 5-8: the block read twice (its first lines are nobody's copies), then its four copies.
    // Line 17 breaks it; lines 18-19 are copies of X's and Y's rules before it: the block, read once,
    // is taken at line 20 with its five copies.
    expect(seen).toEqual([
      "5 -A X -j A",
      "6 -A Y -j B",
      "7 -A X -j A",
      "8 -A Y -j B",
      "block of 2 [0,1] x4 from line 9",
      "17 -A Z -j C",
      "18 -A X -j A",
      "19 -A Y -j B",
      "block of 2 [0,1] x5 from line 20",
    ]);
    expect(reader.ruleCount).toBe(25);
  });

  test("a block copied so often that its copies wrap the handlers' window is counted exactly", () => {
    // A B C written 2,734 times: lines 4-10 are read one by one (the block found is B C A, read twice
    // from line 5), then 2,731 copies from line 11: 3 x 2,731 = 8,193 = 2 x 4,096 + 1 rules, so the
    // last copy's first rule lands, modulo REPEAT_WINDOW, on the block's second.
    const block = ["-A X -j A", "-A Y -m foo [unsupported revision] -j B", "-A X -j C"];
    const lines = ["*filter", ":X - [0:0]", ":Y - [0:0]"];
    for (let i = 0; i < 2734; i++) lines.push(...block);
    lines.push(block[1]!, "COMMIT", "");
    const text = lines.join("\n");
    const got = readAll(text, 1 << 20, true, true);
    expect(got.copies).toBe(3 * 2731);
    expect(got.scan.duplicates.groups.map((g) => `${g.count} ${g.rule} ${g.lines.join(",")}`).sort()).toEqual(
      duplicatesOfText(text).map((l) => {
        const [count, , rule, at] = l.split("\t");
        return `${count} ${rule} ${at}`;
      }),
    );
    const x = got.ruleset.tables.get("filter")!.chains.get("X")!;
    expect(x.ruleCount).toBe(2 * 2734);
    expect(x.rules.at(-1)!.line).toBe(3 + 3 * 2734);
    expect(got.hits.map((h) => h.line)).toEqual([5, 8, 11, 14, 17]);
  });

  const cases = [
    ["plain", {}],
    ["CRLF", { crlf: true }],
    ["counters", { counters: true }],
  ] as const;
  test.each(cases)(
    "blocks change nothing a scan, a parse and signature checks find: %s",
    (_name, options) => {
      let copies = 0;
      for (let seed = 1; seed <= 12; seed++) {
        const text = leakyDump(seed, options);
        const duplicates = duplicatesOfText(text);
        const chains = chainsOfText(text);
        for (const [chunk, buffer] of [
          [97, false],
          [4093, true],
          [1 << 20, false],
          [1 << 20, true],
        ] as const) {
          const got = readAll(text, chunk, true, buffer);
          const one = readAll(text, chunk, false);
          // Each rule by position from the store's entries, before any chain's rules are made (then a
          // chain's access reads them instead).
          const viaStore = new Map<Chain, { lineAt: number[]; raw: string[]; lines: number[] }>();
          for (const t of got.ruleset.tables.values()) {
            for (const c of t.chains.values()) {
              const access = c.ruleAccess!();
              const at = Array.from({ length: chainLength(c) }, (_, k) => k);
              const lineAt = at.map((k) => access.lineAt(k));
              viaStore.set(c, {
                lineAt,
                raw: at.map((k) => access.at(k).raw),
                lines: Array.from(access.lines),
              });
            }
          }
          copies += got.copies;
          const groups = got.scan.duplicates.groups.map(
            (g) => `${g.count}\t${g.table}\t${g.rule}\t${g.lines.join(",")}`,
          );
          expect(groups.sort()).toEqual(duplicates);
          for (const [key, want] of chains) {
            const [table, name] = key.split(" ") as ["filter", string];
            const chain = got.ruleset.tables.get(table)!.chains.get(name)!;
            expect(chain.rules.map((r) => `${r.line}\t${r.raw}`)).toEqual(want);
            expect(chain.ruleTexts?.()).toEqual(chain.rules.map((r) => r.text));
          }
          for (const t of got.ruleset.tables.values()) {
            for (const c of t.chains.values()) {
              // Runs and lines without rule objects agree with the rules themselves.
              const texts = c.rules.map((r) => r.text);
              const runs = c.ruleRuns!();
              expect([...runs.starts].map((at, r) => `${at} ${runs.texts[r]}`)).toEqual(
                texts.flatMap((x, i) => (i > 0 && texts[i - 1] === x ? [] : [`${i} ${x}`])),
              );
              const lines = c.rules.map((r) => r.line);
              expect(viaStore.get(c)).toEqual({ lineAt: lines, raw: c.rules.map((r) => r.raw), lines });
            }
          }
          expect(got.hits).toEqual(one.hits);
          expect({ rules: got.rules, lines: got.lines }).toEqual({ rules: one.rules, lines: one.lines });
        }
      }
      // The blocks were taken (with counters, only the copies whose counters are the same).
      expect(copies).toBeGreaterThan(1000);
    },
  );
});
