/**
 * The scanner against an independent statement of the same question, made by other programs on the
 * same file: `awk` cuts each `-A` line to its table and text (no CR, no `[p:b]` prefix), and
 * `LC_ALL=C sort | uniq -c` counts the copies; `awk` also lists the first five lines of each. Run on
 * generated dumps of every bench layout (kube-proxy write order, iptables-save order, all distinct,
 * all leaked; with counters and CRLF) and on every real-world dump in ../shared/realworld that
 * netdoctor reads.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { type GenerateDumpOptions, generateDump, optionsForRules } from "../bench/generate-dump.ts";
import { DumpReader } from "../parse/dump-reader.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { NodeScanner, rulesInBytes } from "./scan-node.ts";

const REALWORLD_DIR = resolve(process.cwd(), "../shared/realworld");
const REALWORLD = existsSync(REALWORLD_DIR) ? REALWORLD_DIR : undefined;

const dir = mkdtempSync(join(tmpdir(), "nd-scan-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Table and text of every rule line, as awk sees them (iptables -S input has no `*table`: filter). */
const CUT = String.raw`BEGIN { t = "filter" } { sub(/\r$/, "") } /^\*/ { t = substr($0, 2) }
/^(\[[0-9]+:[0-9]+\] )?-A / { sub(/^\[[0-9]+:[0-9]+\] /, ""); print t "\t" $0 }`;
/** The first five line numbers of every table and text seen more than once. */
const LINES = String.raw`BEGIN { t = "filter" } { sub(/\r$/, "") } /^\*/ { t = substr($0, 2) }
/^(\[[0-9]+:[0-9]+\] )?-A / { sub(/^\[[0-9]+:[0-9]+\] /, ""); k = t "\t" $0; n[k]++; if (n[k] <= 5) l[k] = l[k] (n[k] > 1 ? "," : "") NR }
END { for (k in n) if (n[k] > 1) print k "\t" l[k] }`;

/** `count<TAB>table<TAB>rule<TAB>lines` per group, sorted, from awk, sort and uniq. */
function statement(file: string): { groups: string[]; rules: number } {
  const sh = (script: string) =>
    execFileSync("sh", ["-c", script], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
      env: { ...process.env, LC_ALL: "C" },
    });
  const q = `'${file.replaceAll("'", "'\\''")}'`;
  const counted = sh(`awk '${CUT}' ${q} | sort | uniq -c | awk '$1 > 1'`);
  const lines = new Map<string, string>();
  for (const l of sh(`awk '${LINES}' ${q}`).split("\n").filter(Boolean)) {
    const at = l.lastIndexOf("\t");
    lines.set(l.slice(0, at), l.slice(at + 1));
  }
  const groups = counted
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const m = /^\s*(\d+) (.*)$/.exec(l)!;
      return `${m[1]}\t${m[2]}\t${lines.get(m[2]!)}`;
    })
    .sort();
  const rules = Number(sh(`awk '${CUT}' ${q} | wc -l`).trim());
  return { groups, rules };
}

/**
 * The scanner's groups in the same form, reading the file in chunks of `chunk` bytes; `sized`: told
 * how many rules to expect, as the CLI tells it (it then sizes its table after the first rules).
 */
function scanned(file: string, chunk: number, sized = false): { groups: string[]; rules: number } {
  const bytes = readFileSync(file);
  const scanner = new NodeScanner(sized ? { expectedRules: rulesInBytes(bytes.length) } : {});
  const reader = new DumpReader(scanner.handler);
  for (let at = 0; at < bytes.length; at += chunk) reader.push(bytes.subarray(at, at + chunk));
  reader.end();
  const scan = scanner.finish({ node: "n", file, header: reader.header });
  const groups = scan.duplicates.groups
    .map((g) => `${g.count}\t${g.table}\t${g.rule}\t${g.lines.join(",")}`)
    .sort();
  return { groups, rules: scan.rules };
}

const LAYOUTS: readonly [string, GenerateDumpOptions][] = [
  [
    "kube-proxy write order",
    optionsForRules(20_000, { endpointsPerService: 2, duplicateShare: 0.3, layout: "kube-proxy" }),
  ],
  ["iptables-save order", optionsForRules(20_000, { endpointsPerService: 2, duplicateShare: 0.3 })],
  ["all distinct", optionsForRules(20_000, { duplicateShare: 0, layout: "kube-proxy" })],
  ["all leaked", optionsForRules(20_000, { duplicateShare: 0.95, layout: "kube-proxy" })],
  [
    "kube-proxy order, counters, CRLF",
    optionsForRules(5_000, { layout: "kube-proxy", counters: true, crlf: true }),
  ],
  ["iptables-save order, legacy, counters", optionsForRules(5_000, { backend: "legacy", counters: true })],
];

describe("NodeScanner against awk, sort and uniq", () => {
  test.each(LAYOUTS)(
    "NodeScanner finds what sort | uniq -c finds in a generated dump: %s",
    (name, options) => {
      const file = join(dir, `${name.replaceAll(/\W+/g, "-")}.txt`);
      writeFileSync(file, [...generateDump(options)].join(""));
      const want = statement(file);
      expect(want.groups.length).toBeGreaterThan(name === "all distinct" ? -1 : 0);
      // 64 KiB chunks (a pipe's) and an odd size that cuts lines anywhere.
      for (const chunk of [1 << 16, 4093]) expect(scanned(file, chunk)).toEqual(want);
      expect(scanned(file, 1 << 20, true)).toEqual(want);
    },
  );

  const realworld = REALWORLD;
  test.skipIf(realworld === undefined)(
    "NodeScanner finds what sort | uniq -c finds in every real-world dump it reads (../shared/realworld)",
    () => {
      let read = 0;
      for (const name of readdirSync(realworld!).sort()) {
        const file = join(realworld!, name);
        try {
          scanned(file, 1 << 20);
        } catch (error) {
          if (error instanceof DumpSyntaxError) continue; // not iptables-save text (nft, -L, ipvsadm, wrapped pastes)
          throw error;
        }
        read++;
        expect({ name, ...scanned(file, 977) }).toEqual({ name, ...statement(file) });
      }
      expect(read).toBeGreaterThan(15);
    },
  );
  if (realworld === undefined) console.warn(`SKIP the real-world dumps: ${REALWORLD_DIR} is absent`);
});
