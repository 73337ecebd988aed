/**
 * Reads `nft -a list ruleset` (or `nft list ruleset`) text only far enough to say on which line each
 * table, chain, set and rule is printed: the JSON dump has the handles and the semantics, the text
 * dump is what a person reads, so evidence is `nft-ruleset.txt:LINE` with the handle. Rules are
 * matched by their `# handle N` comment, or by position inside their chain when the dump was taken
 * without `-a`. It also picks up what the JSON of nft 1.0.6 leaves out: the devices of ingress
 * chains and iptables-nft's "managed by iptables-nft" notices.
 */
import type { NftTextRef } from "./nft-ruleset.ts";

export interface NftTextChain extends NftTextRef {
  /** Devices of an ingress/egress base chain (`device "lo"`, `devices = { a, b }`). */
  readonly devices?: readonly string[];
  /** Rule lines in order, with their handle when printed. */
  readonly rules: readonly (NftTextRef & { readonly handle?: number })[];
}

export interface NftTextIndex {
  /** Key `family name`. */
  readonly tables: ReadonlyMap<string, NftTextRef>;
  /** Key `family table chain`. */
  readonly chains: ReadonlyMap<string, NftTextChain>;
  /** Key `family table set` (sets and maps), with the lines of their block (elements). */
  readonly sets: ReadonlyMap<string, NftTextRef & { readonly body: readonly NftTextRef[] }>;
  /** Tables printed with `# Warning: table ... is managed by iptables-nft` (key `family name`). */
  readonly iptablesNft: ReadonlySet<string>;
  /** Whether rules carry `# handle N` (the dump was taken with `-a`). */
  readonly hasHandles: boolean;
}

/** Counts `{` minus `}` outside double-quoted strings. */
function braceDelta(line: string): number {
  let d = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === "{") d++;
    else if (!quoted && c === "}") d--;
  }
  return d;
}

const TABLE = /^table\s+(\S+)\s+(\S+)\s+\{/;
const CHAIN = /^chain\s+(\S+)\s+\{/;
const SET = /^(set|map)\s+(\S+)\s+\{/;
const HANDLE = /\s# handle (\d+)$/;
const WARNING = /^# Warning: table (\S+) (\S+) is managed by iptables-nft/;

function unquote(name: string): string {
  return name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1) : name;
}

function devicesOf(line: string): string[] | undefined {
  const one = /\bdevice\s+("([^"]*)"|(\S+?))[\s;]/.exec(line);
  if (one) return [one[2] ?? one[3]!];
  const many = /\bdevices\s*=\s*\{([^}]*)\}/.exec(line);
  if (many)
    return many[1]!
      .split(",")
      .map((d) => unquote(d.trim()))
      .filter((d) => d !== "");
  return undefined;
}

interface MutableChain {
  line: number;
  text: string;
  devices?: string[];
  rules: (NftTextRef & { handle?: number })[];
}

/**
 * Indexes `nft [-a] list ruleset` text. Unknown lines are skipped: the index only locates what the
 * JSON dump defines.
 */
export function parseNftText(text: string): NftTextIndex {
  const tables = new Map<string, NftTextRef>();
  const chains = new Map<string, MutableChain>();
  const sets = new Map<string, NftTextRef & { body: NftTextRef[] }>();
  let setBody: NftTextRef[] | undefined;
  const iptablesNft = new Set<string>();
  let hasHandles = false;
  let table: string | undefined;
  let chain: MutableChain | undefined;
  // Depth of braces inside the current table; blocks other than chains are skipped by depth.
  let depth = 0;
  let skipUntil = -1;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    const line = raw.trim();
    const lineNo = i + 1;
    const w = WARNING.exec(line);
    if (w) {
      iptablesNft.add(`${w[1]} ${w[2]}`);
      continue;
    }
    if (table === undefined) {
      const t = TABLE.exec(line);
      if (t) {
        table = `${t[1]} ${unquote(t[2]!)}`;
        tables.set(table, { line: lineNo, text: line });
        depth = braceDelta(line);
        if (depth <= 0) table = undefined;
      }
      continue;
    }
    const delta = braceDelta(line);
    if (skipUntil >= 0) {
      if (setBody !== undefined && line !== "" && line !== "}") setBody.push({ line: lineNo, text: line });
      depth += delta;
      if (depth <= skipUntil) skipUntil = -1;
      if (depth <= 0) table = undefined;
      continue;
    }
    if (chain !== undefined) {
      depth += delta;
      if (depth <= 1) {
        chain = undefined;
        if (depth <= 0) table = undefined;
        continue;
      }
      if (/^type\s+\S+\s+hook\s/.test(line)) {
        const devices = devicesOf(line);
        if (devices !== undefined) chain.devices = devices;
      } else if (!/^comment\s+"/.test(line) && !/^policy\s/.test(line) && line !== "") {
        const h = HANDLE.exec(line);
        if (h) hasHandles = true;
        chain.rules.push({ line: lineNo, text: line, ...(h ? { handle: Number(h[1]) } : {}) });
      }
      continue;
    }
    depth += delta;
    if (depth <= 0) {
      table = undefined;
      continue;
    }
    const c = CHAIN.exec(line);
    if (c) {
      chain = { line: lineNo, text: line, rules: [] };
      chains.set(`${table} ${unquote(c[1]!)}`, chain);
      if (depth <= 1) chain = undefined;
      continue;
    }
    const s = SET.exec(line);
    setBody = undefined;
    if (s) {
      setBody = [];
      sets.set(`${table} ${unquote(s[2]!)}`, { line: lineNo, text: line, body: setBody });
    }
    // Sets, maps, flowtables and named objects: skip their block.
    if (depth > 1) skipUntil = 1;
  }
  return { tables, chains, sets, iptablesNft, hasHandles };
}
