/**
 * What kind of text a user handed over, told from its first megabyte before the dump reader runs:
 * an iptables-save dump, `iptables -S` output or grepped rule lines (read, with the table inferred),
 * or something people paste instead, refused with one line that says what it is and what to run:
 * `iptables -L` listings (what sosreports hold), `ipvsadm -Ln`, a dump copied from Markdown with
 * its indentation, or a paste an issue tracker wrapped. nftables output is refused by the reader.
 */
import type { ParseWarning, TableName } from "../model/ruleset.ts";
import { BUILTIN_CHAINS } from "../model/ruleset.ts";
import { DumpSyntaxError } from "./dump-syntax-error.ts";
import { inferTable } from "./infer-table.ts";

/** How the text is read: a dump, `iptables -S` output, or bare `-A` lines (a grepped chain). */
export type DumpFormat = "iptables-save" | "iptables-S" | "rule-lines";

/** The end of a complete input that has no COMMIT for its last table. */
export interface Truncation {
  readonly table: TableName;
  /** Line of the `*table` header left open. */
  readonly openedAt: number;
  /** Last non-blank line of the input. */
  readonly lastLine: number;
  /** The last line when it is a fragment no dump line looks like (cut mid-line): leave it out. */
  readonly cutLine?: number;
}

/** What {@linkcode sniffDumpFormat} found. */
export interface SniffResult {
  readonly format: DumpFormat;
  /** The table of `iptables -S` or rule-line input (the caller's, or inferred). */
  readonly table?: TableName;
  /** Things the reader should say about the input (e.g. the inferred table). */
  readonly notices: readonly ParseWarning[];
  /** Set when the whole input was seen and its last table has no COMMIT. */
  readonly truncated?: Truncation;
}

/** Options of {@linkcode sniffDumpFormat}. */
export interface SniffOptions {
  /** The table the user named (`--table`); it wins over any inference. */
  readonly table?: TableName;
  /** True when `head` is the whole input (truncation can then be told). */
  readonly complete: boolean;
}

type LineKind = "blank" | "comment" | "table" | "decl" | "commit" | "rule" | "s-line" | "other";

const RULE = /^(?:\[\d+:\d+\] )?-A \S/;
const S_LINE = /^-[PN] \S/;
const DECL = /^:\S+ \S+(?: \[\d+:\d+\])?\s*$/;
/** `Chain INPUT (policy ACCEPT 0 packets, 0 bytes)`, `Chain KUBE-SERVICES (2 references)`. */
const LISTING = /^Chain (\S+) \((?:policy \w+|\d+ references?)/;
const LISTING_HEADER = /^\s*(?:pkts\s+bytes\s+)?target\s+prot\s+opt\s/;
const IPVS = /^(?:IP Virtual Server version |Prot LocalAddress:Port |\s+-> RemoteAddress:Port)/;
const INDENTED =
  /^[ \t]+(?:(?:\[\d+:\d+\] )?-[APN] \S|\*(?:raw|mangle|nat|filter|security)\s*$|:\S+ \S+|COMMIT\s*$)/;

function classify(line: string): LineKind {
  const c = line.charCodeAt(0);
  // Nearly every line of a dump: `-A CHAIN ...` (what RULE says, without running it).
  if (c === 45 /* - */ && line.charCodeAt(1) === 65 && line.charCodeAt(2) === 32) {
    const d = line.charCodeAt(3);
    if (d > 32 && d !== 0xa0 && d < 0x2000) return "rule";
  }
  if (line.trim() === "") return "blank";
  if (c === 35 /* # */) return "comment";
  if (c === 42 /* * */) return "table";
  if (c === 58 /* : */) return DECL.test(line) ? "decl" : "other";
  if (line === "COMMIT" || line === "COMMIT ") return "commit";
  if (RULE.test(line)) return "rule";
  if (S_LINE.test(line)) return "s-line";
  return "other";
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(line: number, detail: string): never {
  throw new DumpSyntaxError(`Cannot parse dump at line ${line}: ${detail}`, { line, column: 1 });
}

/** Refuses an `iptables -L` listing, naming the table its chains belong to. */
function refuseListing(line: number, chains: readonly string[]): never {
  const builtins = chains.filter((c) => Object.values(BUILTIN_CHAINS).some((b) => b.includes(c)));
  const guess = inferTable(builtins, []);
  const t = guess.table === undefined || guess.table === "filter" ? "" : ` -t ${guess.table}`;
  fail(
    line,
    `this is \`iptables${t} -L\` output (a listing for people, as in sosreports): it leaves out ` +
      `match details that iptables-save keeps, so its rules cannot be traced or compared; ` +
      `run \`iptables-save${t}\` on the node instead`,
  );
}

interface Line {
  readonly no: number;
  readonly text: string;
  readonly kind: LineKind;
}

/** The lines of `head`, without a last line that may be cut by the end of the chunk. */
function linesOf(head: string, complete: boolean): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (let no = 1; start < head.length; no++) {
    const nl = head.indexOf("\n", start);
    if (nl < 0 && !complete) break;
    const end = nl < 0 ? head.length : nl;
    const text = head.charCodeAt(end - 1) === 13 ? head.slice(start, end - 1) : head.slice(start, end);
    out.push({ no, text, kind: classify(text) });
    start = end + 1;
  }
  return out;
}

/** Refuses pastes that are not a dump at all (listings, IPVS state, indented copies). */
function refuseForeign(lines: readonly Line[]): void {
  const firstContent = lines.find((l) => l.kind !== "blank" && l.kind !== "comment");
  if (firstContent === undefined) return;
  const early = lines.filter((l) => l.kind !== "blank").slice(0, 20);
  const listing = early.find((l) => LISTING.test(l.text) || LISTING_HEADER.test(l.text));
  if (listing !== undefined) {
    const chains = lines.flatMap((l) => LISTING.exec(l.text)?.[1] ?? []);
    refuseListing(listing.no, chains);
  }
  if (IPVS.test(firstContent.text)) {
    fail(
      firstContent.no,
      "this is IPVS state (`ipvsadm -Ln`), not an iptables ruleset: a node whose kube-proxy runs in " +
        "IPVS mode keeps its Services there; give netdoctor the node's `iptables-save` output",
    );
  }
  const firstOther = lines.find((l) => l.kind === "other");
  const indented = lines.find((l) => l.kind === "other" && INDENTED.test(l.text));
  if (indented !== undefined && (firstOther === indented || firstOther!.no < indented.no)) {
    fail(
      indented.no,
      `"${clip(indented.text.trim())}" is indented: the paste looks copied from Markdown or a web page; ` +
        "remove the indentation and any text around the dump",
    );
  }
}

/** Hints at the first line that continues the rule before it (a paste wrapped at a fixed width). */
function refuseWrapped(lines: readonly Line[]): void {
  let previous: Line | undefined;
  for (const line of lines) {
    if (line.kind === "blank") continue;
    if (line.kind === "other" && previous?.kind === "rule") {
      fail(
        line.no,
        `line ${line.no} ("${clip(line.text)}") looks like the continuation of line ${previous.no}: ` +
          "the paste was wrapped; join the lines (or attach the file instead of pasting it)",
      );
    }
    previous = line;
  }
}

/** The open table at the end of a complete iptables-save input, if any. */
function truncation(lines: readonly Line[]): Truncation | undefined {
  let open: { table: string; at: number } | undefined;
  for (const l of lines) {
    if (l.kind === "table") open = { table: l.text.slice(1).trim(), at: l.no };
    else if (l.kind === "commit") open = undefined;
  }
  const last = lines.findLast((l) => l.kind !== "blank");
  if (open === undefined || last === undefined) return undefined;
  if (!Object.hasOwn(BUILTIN_CHAINS, open.table)) return undefined;
  const cut = last.kind === "other" || (last.text.startsWith(":") && last.kind !== "decl");
  return {
    table: open.table as TableName,
    openedAt: open.at,
    lastLine: last.no,
    ...(cut ? { cutLine: last.no } : {}),
  };
}

/** Reads `iptables -S` or bare rule lines: the table is the caller's or inferred, else asked for. */
function sniffHeadless(lines: readonly Line[], options: SniffOptions): SniffResult {
  const sLines = lines.filter((l) => l.kind === "s-line");
  const format: DumpFormat = sLines.length > 0 ? "iptables-S" : "rule-lines";
  const first = lines.find((l) => l.kind === "s-line" || l.kind === "rule")!;
  const grepped =
    format === "rule-lines"
      ? "The input has rules but no table header and no chain declarations (a grepped chain?): each chain is declared where it is first used"
      : undefined;
  const notice = (reason: string): ParseWarning => ({
    line: first.no,
    text: first.text,
    reason,
    kind: "format",
  });
  if (options.table !== undefined)
    return { format, table: options.table, notices: grepped === undefined ? [] : [notice(grepped)] };
  const policies = sLines.flatMap((l) => (l.text.startsWith("-P ") ? [l.text.split(/\s+/)[1]!] : []));
  const used = lines.flatMap((l) => {
    if (l.kind !== "rule") return [];
    const chain = l.text.replace(/^\[\d+:\d+\] /, "").split(/\s+/)[1]!;
    return Object.values(BUILTIN_CHAINS).some((b) => b.includes(chain)) ? [chain] : [];
  });
  const guess = inferTable(policies, [...new Set(used)]);
  if (guess.table === undefined) {
    const names = [...new Set([...policies, ...used])].join(", ");
    fail(
      first.no,
      `\`iptables -S\` output without a table: its chains (${names}) exist in ${guess.candidates.join(" and ")}; ` +
        `pass the table it came from (--table ${guess.candidates.includes("nat") ? "nat" : guess.candidates[0]})`,
    );
  }
  const how = guess.exact
    ? `read as table "${guess.table}", the table these built-in chains belong to (pass --table to say otherwise)`
    : `read as table "${guess.table}", iptables' default (pass --table if it came from another)`;
  const reason = grepped === undefined ? `No table header: ${how}` : `${grepped}; ${how}`;
  return { format, table: guess.table, notices: [notice(reason)] };
}

/**
 * Whether every whole line of `head` is one an iptables-save dump has (comment, `*table`, a valid
 * declaration, `-A` rule, COMMIT, blank) and a table comes before the first rule: then the checks of
 * {@linkcode sniffDumpFormat} find nothing to refuse, which this tells without an object per line
 * (the head of a big dump is thousands of lines). Anything else takes the full checks.
 */
function plainDump(head: string): boolean {
  let sawTable = false;
  for (let start = 0; ; ) {
    const nl = head.indexOf("\n", start);
    // The last line may be cut by the end of the head: it is not looked at (as in linesOf).
    if (nl < 0) return sawTable;
    const end = head.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const c = head.charCodeAt(start);
    if (c === 45 /* - */) {
      const d = head.charCodeAt(start + 3);
      const rule = head.charCodeAt(start + 1) === 65 && head.charCodeAt(start + 2) === 32;
      if (!sawTable || !rule || !(d > 32 && d !== 0xa0 && d < 0x2000)) return false;
    } else if (c === 42 /* * */) {
      sawTable = true;
    } else if (c === 58 /* : */ || c === 91 /* [ */) {
      const line = head.slice(start, end);
      if (c === 58 ? !DECL.test(line) : !sawTable || !RULE.test(line)) return false;
    } else if (c !== 35 /* # */ && start < end) {
      const line = head.slice(start, end);
      if (line !== "COMMIT" && line !== "COMMIT " && line.trim() !== "") return false;
    }
    start = nl + 1;
  }
}

/**
 * Tells what `head` (the first chunk of the input, decoded) is; see the file comment.
 *
 * @throws {DumpSyntaxError} For input that is not a dump, with what it is and what to run instead.
 */
export function sniffDumpFormat(head: string, options: SniffOptions): SniffResult {
  if (!options.complete && plainDump(head)) {
    return {
      format: "iptables-save",
      ...(options.table === undefined ? {} : { table: options.table }),
      notices: [],
    };
  }
  const lines = linesOf(head, options.complete);
  refuseForeign(lines);
  refuseWrapped(lines);
  const firstStructural = lines.find((l) => l.kind === "table" || l.kind === "rule" || l.kind === "s-line");
  if (firstStructural !== undefined && firstStructural.kind !== "table") return sniffHeadless(lines, options);
  const truncated = options.complete ? truncation(lines) : undefined;
  return {
    format: "iptables-save",
    ...(options.table === undefined ? {} : { table: options.table }),
    notices: [],
    ...(truncated === undefined ? {} : { truncated }),
  };
}
