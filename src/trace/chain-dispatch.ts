/**
 * Dispatch indexes of long chains (nat KUBE-SERVICES, KUBE-NODEPORTS): from destination IP (or
 * destination port) to the rules that could match, keeping rule order. Candidates are the rules keyed
 * on the packet's destination merged with the rules that do not constrain it, so a trace visits
 * exactly the rules a linear scan would have matched, without scanning.
 */
import {
  type Chain,
  chainLength,
  type Rule,
  type RuleAccess,
  ruleAccess,
  ruleRuns,
} from "../model/ruleset.ts";
import { parseCidr } from "../net/ipv4.ts";
import { specOf } from "./compile-rule.ts";
import type { ChainIndex, ChainInfo } from "./trace-index.ts";

/** Generic rules merged into every destination's list at build time, at most. */
const PREMERGE_MAX = 8;

/** Chains shorter than this are scanned linearly (an index would cost more than it saves). */
export const INDEX_MIN_RULES = 24;

/** Rule positions to visit for a packet with this destination, in rule order; null means all. */
export function candidateRules(info: ChainInfo, dst: number, dport: number): readonly number[] | null {
  if (info.index === undefined) return null;
  if (info.index === null) info.index = buildChainIndex(info.chain);
  if (info.index.linear) return null;
  const { byDst, byDport, generic, merged } = info.index;
  if (info.index.premerged) return byDst.get(dst) ?? generic;
  const a = byDst.get(dst);
  const b = dport >= 0 ? byDport.get(dport) : undefined;
  if (a === undefined && b === undefined) return generic;
  if (b === undefined && generic.length === 0) return a!;
  if (a === undefined && generic.length === 0) return b!;
  // Merged lists are cached per key: traces to one Service reuse them (bounded by the chain's size).
  const key = a === undefined ? -1 - (b === undefined ? 0 : dport) : b === undefined ? dst : -1;
  if (key !== -1) {
    const hit = merged.get(key);
    if (hit !== undefined) return hit;
  }
  const list = mergeSorted(mergeSorted(a ?? [], b ?? []), generic);
  if (key !== -1) merged.set(key, list);
  return list;
}

/**
 * The last candidate position of the run of exact copies that starts at candidate `k` (a leak's
 * 100,000 copies right after each other): the same rule on the same packet state gives the same
 * answer, so when the first does not match, none of them does and the walk goes on after them.
 */
export function lastCopy(copies: Uint8Array, cands: readonly number[] | null, k: number, n: number): number {
  let at = k;
  let rule = cands === null ? at : cands[at]!;
  while (at + 1 < n) {
    const next = cands === null ? at + 1 : cands[at + 1]!;
    if (next !== rule + 1 || copies[next] !== 1) break;
    at++;
    rule = next;
  }
  return at;
}

function mergeSorted(x: readonly number[], y: readonly number[]): number[] {
  if (x.length === 0) return y as number[];
  if (y.length === 0) return x as number[];
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) out.push(x[i]! <= y[j]! ? x[i++]! : y[j++]!);
  while (i < x.length) out.push(x[i++]!);
  while (j < y.length) out.push(y[j++]!);
  return out;
}

/**
 * The `-d` of a rule when it is a single non-negated host address, read from the text before the
 * first `-m`/`-j`/`-g` (iptables-save writes addresses there, unquoted). Returns null when the
 * rule does not constrain its destination that way, undefined when only a full parse can tell.
 */
function hostDestination(text: string): number | null | undefined {
  // Character scans, no token arrays: this runs for every rule of every long chain. Only the text
  // before the first " -d " is searched for the markers (backwards, so a short prefix costs little).
  const i = text.indexOf(" -d ");
  if (i < 0) return text.includes(" --destination ") || text.includes(" --dst ") ? undefined : null;
  for (const marker of PREFIX_END) if (text.lastIndexOf(marker, i) >= 0) return undefined;
  if (text.startsWith(" !", i - 2)) return null;
  const stop = text.indexOf(" ", i + 4);
  const cidr = parseCidr(text.slice(i + 4, stop < 0 ? text.length : stop));
  return cidr !== undefined && cidr.prefix === 32 ? cidr.base : null;
}

const PREFIX_END = [" -m ", " -j ", " -g ", " --match ", " --jump ", " --goto "];

/** True when position `i` of `text` lies outside double quotes (backslash escapes honoured). */
function outsideQuotes(text: string, i: number): boolean {
  let inside = false;
  for (let j = text.indexOf('"'); j >= 0 && j < i; j = text.indexOf('"', j + 1)) {
    if (text.charCodeAt(j - 1) !== 92) inside = !inside;
  }
  return !inside;
}

function keyFromSpec(rule: Rule): { dst?: number; dport?: number } {
  let spec: Rule["spec"];
  try {
    spec = specOf(rule);
  } catch {
    return {};
  }
  const d = spec.destination;
  if (d !== undefined && !d.negated) {
    const cidr = parseCidr(d.value);
    if (cidr !== undefined && cidr.prefix === 32) return { dst: cidr.base };
  }
  for (const m of spec.matches) {
    if (m.module !== "tcp" && m.module !== "udp" && m.module !== "sctp") continue;
    for (const o of m.options) {
      if (
        (o.name === "--dport" || o.name === "--destination-port") &&
        !o.negated &&
        /^\d+$/.test(o.values[0] ?? "")
      ) {
        return { dport: Number(o.values[0]) };
      }
    }
  }
  return {};
}

/**
 * The single non-negated `--dport N` of a rule's text (quoted values blanked out first, so a
 * comment cannot fake one); null when it has none, undefined when only a full parse can tell.
 */
function destinationPort(text: string): number | null | undefined {
  if (text.includes("--destination-port")) return undefined;
  let found = -1;
  for (let i = text.indexOf(" --dport "); i >= 0; i = text.indexOf(" --dport ", i + 1)) {
    if (!outsideQuotes(text, i)) continue;
    if (found >= 0) return undefined;
    found = i;
  }
  if (found < 0) return null;
  if (text.startsWith(" !", found - 2)) return null;
  const m = /^ --dport (\d+)(?: |$)/.exec(text.slice(found, found + 16));
  return m === null ? null : Number(m[1]);
}

/** The list of `key` in `map`, made empty on first use. */
function listOf(map: Map<number, number[]>, key: number): number[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

/**
 * Builds the dispatch index of a long chain. It reads the chain as runs of identical rules (a leak's
 * 100,000 copies are one run, k3s-io/k3s#3117): each distinct text is looked at once, and a chain
 * where no rule is keyed on the destination is walked whole (`linear`) without lists of positions.
 */
export function buildChainIndex(chain: Chain): ChainIndex {
  const n = chainLength(chain);
  const { starts, texts } = ruleRuns(chain);
  const end = (r: number): number => (r + 1 < starts.length ? starts[r + 1]! : n);
  // Rule objects only for the few rules whose text does not tell.
  let access: RuleAccess | undefined;
  const ruleAt = (i: number): Rule => (access ??= ruleAccess(chain)).at(i);
  const same = (r: number): boolean => r > 0 && texts[r] === texts[r - 1];
  // Per run: the destination host of its text, or -1 (and the destination port, or -1).
  const dsts: number[] = [];
  let copies: Uint8Array | undefined;
  let rest = 0;
  for (let r = 0; r < texts.length; r++) {
    const from = starts[r]!;
    const to = end(r);
    if (to - from > 1 || same(r)) (copies ??= new Uint8Array(n)).fill(1, same(r) ? from : from + 1, to);
    if (same(r)) dsts.push(dsts[r - 1]!);
    else {
      const d = hostDestination(texts[r]!);
      dsts.push(typeof d === "number" ? d : d === undefined ? (keyFromSpec(ruleAt(from)).dst ?? -1) : -1);
    }
    if (dsts[r]! < 0) rest += to - from;
  }
  // Long chains without destinations (KUBE-NODEPORTS) dispatch on the destination port instead.
  const ports: number[] = [];
  for (let r = 0; r < texts.length; r++) {
    if (dsts[r]! >= 0 || rest < INDEX_MIN_RULES) ports.push(-1);
    else if (same(r)) ports.push(ports[r - 1]!);
    else {
      const fast = destinationPort(texts[r]!);
      ports.push((fast === undefined ? keyFromSpec(ruleAt(starts[r]!)).dport : fast) ?? -1);
    }
  }
  const byDst = new Map<number, number[]>();
  const byDport = new Map<number, number[]>();
  const generic: number[] = [];
  const linear = dsts.every((d) => d < 0) && ports.every((p) => p < 0);
  for (let r = 0; r < texts.length && !linear; r++) {
    const list =
      dsts[r]! >= 0 ? listOf(byDst, dsts[r]!) : ports[r]! >= 0 ? listOf(byDport, ports[r]!) : generic;
    for (let i = starts[r]!, to = end(r); i < to; i++) list.push(i);
  }
  const premerged = byDport.size === 0 && generic.length <= PREMERGE_MAX;
  if (premerged && generic.length > 0) {
    for (const [key, list] of byDst) byDst.set(key, mergeSorted(list, generic));
  }
  return { byDst, byDport, generic, merged: new Map(), premerged, linear, copies };
}
