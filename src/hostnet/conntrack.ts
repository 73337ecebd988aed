/**
 * `conntrack -L -o extended` output, as collected (UDP entries first, bounded, with a truncation
 * line): the connection-tracking entries, for stale NAT bindings to pods that no longer exist.
 */
import type { Evidence } from "../model/finding.ts";
import type { HostParseWarning } from "./json-array.ts";
import { lineEvidence, splitLines } from "./text-lines.ts";

/** One direction of an entry. */
export interface ConntrackTuple {
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
}

/** One conntrack entry. */
export interface ConntrackEntry {
  readonly family: string;
  /** `tcp`, `udp`, `icmp`, `sctp`, `unknown`, ... */
  readonly protocol: string;
  /** Seconds left. */
  readonly timeout: number;
  /** TCP/SCTP state such as `ESTABLISHED`; absent for UDP. */
  readonly state?: string;
  /** As the first packet looked (before NAT). */
  readonly original: ConntrackTuple;
  /** What a reply looks like: its source is the real peer after DNAT (the endpoint pod). */
  readonly reply: ConntrackTuple;
  /** `ASSURED`, `UNREPLIED`, `OFFLOAD`, ... */
  readonly flags: readonly string[];
  readonly mark?: number;
  readonly zone?: number;
  readonly evidence: Evidence;
}

export interface ConntrackTable {
  readonly entries: readonly ConntrackEntry[];
  /** Set when the collector cut the listing: how many entries were left out. */
  readonly truncated?: { readonly omitted: number; readonly limit: number; readonly evidence: Evidence };
  readonly warnings: readonly HostParseWarning[];
}

/** The line the collection command adds when it cut the listing (see docs/bundle.md). */
const TRUNCATED = /^# netdoctor: truncated: (\d+) more entries not shown \(limit (\d+)/;

interface TupleBuilder {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
}

function finish(t: TupleBuilder): ConntrackTuple | undefined {
  if (t.src === undefined || t.dst === undefined) return undefined;
  return {
    src: t.src,
    dst: t.dst,
    ...(t.sport === undefined ? {} : { sport: t.sport }),
    ...(t.dport === undefined ? {} : { dport: t.dport }),
  };
}

function parseEntry(raw: string, line: number, file: string): ConntrackEntry | string {
  const words = raw.trim().split(/\s+/);
  // ipv4 2 udp 17 28 [STATE] key=value... [FLAG]...
  if (words.length < 6) return "too few fields";
  const [family, , protocol, , timeoutText] = words;
  if (!/^\d+$/.test(timeoutText!)) return "no timeout field";
  const tuples: TupleBuilder[] = [];
  const flags: string[] = [];
  let state: string | undefined;
  let mark: number | undefined;
  let zone: number | undefined;
  for (const w of words.slice(5)) {
    const flag = /^\[([A-Z_]+)\]$/.exec(w);
    if (flag !== null) {
      flags.push(flag[1]!);
      continue;
    }
    const eq = w.indexOf("=");
    if (eq < 0) {
      if (/^[A-Z_]+$/.test(w) && tuples.length === 0) state = w;
      continue;
    }
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (key === "src") tuples.push({ src: value });
    else if (tuples.length > 0 && tuples.length <= 2) {
      const t = tuples[tuples.length - 1]!;
      if (key === "dst" && t.dst === undefined) t.dst = value;
      else if (key === "sport" && t.sport === undefined) t.sport = Number(value);
      else if (key === "dport" && t.dport === undefined) t.dport = Number(value);
    }
    if (key === "mark") mark = Number(value);
    if (key === "zone") zone = Number(value);
  }
  const original = tuples[0] === undefined ? undefined : finish(tuples[0]);
  const reply = tuples[1] === undefined ? undefined : finish(tuples[1]);
  if (original === undefined || reply === undefined) return "no original and reply tuples";
  return {
    family: family!,
    protocol: protocol!,
    timeout: Number(timeoutText),
    ...(state === undefined ? {} : { state }),
    original,
    reply,
    flags,
    ...(mark === undefined ? {} : { mark }),
    ...(zone === undefined ? {} : { zone }),
    evidence: lineEvidence(file, line, raw),
  };
}

/**
 * Parses `conntrack -L -o extended` as the collector writes it. Lines that are not entries become
 * warnings; the `# netdoctor: truncated: ...` line sets `truncated`.
 */
export function parseConntrack(text: string, options: { file: string }): ConntrackTable {
  const entries: ConntrackEntry[] = [];
  const warnings: HostParseWarning[] = [];
  let truncated: ConntrackTable["truncated"];
  splitLines(text).forEach((raw, i) => {
    if (raw.trim() === "") return;
    const cut = TRUNCATED.exec(raw);
    if (cut !== null) {
      truncated = {
        omitted: Number(cut[1]),
        limit: Number(cut[2]),
        evidence: lineEvidence(options.file, i + 1, raw),
      };
      return;
    }
    if (raw.startsWith("#")) return;
    const entry = parseEntry(raw, i + 1, options.file);
    if (typeof entry === "string") {
      warnings.push({ file: options.file, line: i + 1, text: raw.slice(0, 200), reason: entry });
    } else entries.push(entry);
  });
  return { entries, ...(truncated === undefined ? {} : { truncated }), warnings };
}
