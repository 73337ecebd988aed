/**
 * Evaluates `-m set --match-set NAME src|dst[,...]` for one packet against the sets of
 * `ipset save`, as the kernel's xt_set and ip_set_* modules do:
 *
 * - each flag picks the packet's source or destination for the dimension at its position; with
 *   fewer flags than the set has dimensions nothing matches (ip_set_test checks `opt->dim`);
 * - net dimensions are looked up most specific prefix first, so the most specific member that
 *   contains the address decides and a `nomatch` member there means "not in the set" (ipset(8));
 * - ports match with their protocol (`tcp:80` is not `udp:80`); bitmap:port holds bare TCP/UDP ports;
 * - list:set tries its member sets in order and matches when one of them does;
 * - a set of another family (inet6 for an IPv4 packet) never matches;
 * - timeouts are not applied: a member with a timeout is taken as present and the note says so.
 *
 * When the evidence cannot decide (no `ipset save` at all, the set absent from it, a dimension the
 * packet does not carry) the answer is `undecided` with the reason and what to collect.
 */
import { formatIpv4, inCidr } from "../net/ipv4.ts";
import type { IpsetMember, IpsetSave, IpsetSet, MemberPart, PortPart } from "./ipset-model.ts";
import { IPSET_DIMENSIONS } from "./ipset-model.ts";
import {
  type MatchSetOptions,
  parseSetFlags,
  type SetDirection,
  type SetEvidence,
  type SetMatchResult,
  type SetPacket,
} from "./set-match-types.ts";

export type {
  MatchSetOptions,
  SetDirection,
  SetEvidence,
  SetMatchResult,
  SetPacket,
} from "./set-match-types.ts";
export { parseSetFlags } from "./set-match-types.ts";

function ev(sets: IpsetSave, line: number, text: string): SetEvidence {
  return { file: sets.file, line, text };
}

function portMatches(part: PortPart, packet: SetPacket, dir: SetDirection): boolean | string {
  const port = dir === "src" ? packet.sport : packet.dport;
  if (part.proto === "icmp") return packet.proto === "icmp" && dir === "dst" ? part.port === 8 * 256 : false;
  if (part.proto === "any") {
    // bitmap:port: ip_set_get_ip_port accepts TCP and UDP only.
    if (packet.proto !== "tcp" && packet.proto !== "udp") return false;
  } else if (part.proto !== packet.proto) return false;
  if (port < 0) return `the packet's ${dir === "src" ? "source" : "destination"} port is not known`;
  return part.port === port;
}

/** Whether one member contains the packet; a string when a dimension cannot be decided. */
function memberMatches(
  set: IpsetSet,
  m: IpsetMember,
  packet: SetPacket,
  flags: readonly SetDirection[],
): boolean | string {
  for (let i = 0; i < m.parts.length; i++) {
    const part: MemberPart = m.parts[i]!;
    const dir = flags[i]!;
    switch (part.kind) {
      case "ip":
      case "net": {
        if (part.cidr === undefined) return false;
        const addr = dir === "src" ? packet.src : packet.dst;
        const cidr =
          part.kind === "ip" && set.netmask !== undefined && set.netmask < 32
            ? { ...part.cidr, mask: set.netmask === 0 ? 0 : (0xffffffff << (32 - set.netmask)) >>> 0 }
            : part.cidr;
        if (!inCidr(addr, cidr)) return false;
        break;
      }
      case "port": {
        const r = portMatches(part, packet, dir);
        if (r !== true) return r;
        break;
      }
      case "iface": {
        const name = dir === "src" ? packet.inIf : packet.outIf;
        if (name === undefined) return `the packet's ${dir === "src" ? "in" : "out"}-interface is not known`;
        if (part.text.replace(/^physdev:/, "") !== name) return false;
        break;
      }
      case "mark":
      case "mac":
        return `${part.kind} members (${set.typeName}) are not simulated`;
      case "set":
        return "list:set members are evaluated by matchSet";
      default: {
        const never: never = part;
        throw new TypeError(`Unknown member part ${String(never)}`);
      }
    }
  }
  return true;
}

/** Prefix lengths of a member's net dimensions, for "most specific first" ordering. */
function specificity(m: IpsetMember): number[] {
  return m.parts.filter((p) => p.kind === "net").map((p) => (p.kind === "net" ? (p.cidr?.prefix ?? 0) : 0));
}

function moreSpecific(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

function timeoutNotes(set: IpsetSet, m: IpsetMember | undefined): string[] {
  if (m?.timeout === undefined || m.timeout === 0) return [];
  return [
    `${set.name} member "${m.element}" had ${m.timeout} s left when the set was saved (timeouts are not applied)`,
  ];
}

function listMatch(
  sets: IpsetSave,
  set: IpsetSet,
  flags: readonly SetDirection[],
  packet: SetPacket,
  options: MatchSetOptions,
  depth: number,
): SetMatchResult {
  const head = ev(sets, set.line, set.text);
  let pending: SetMatchResult | undefined;
  for (const m of set.members) {
    const sub = matchSetAt(sets, m.element, flags, packet, options, depth + 1);
    if (sub.result === "match") {
      return { ...sub, evidence: [head, ev(sets, m.line, m.text), ...sub.evidence] };
    }
    if (sub.result === "undecided" && pending === undefined) pending = sub;
  }
  if (pending !== undefined) return { ...pending, evidence: [head, ...pending.evidence] };
  return { result: "no-match", evidence: [head], reason: `no member set of ${set.name} matches`, notes: [] };
}

function matchSetAt(
  sets: IpsetSave,
  name: string,
  flags: readonly SetDirection[],
  packet: SetPacket,
  options: MatchSetOptions,
  depth: number,
): SetMatchResult {
  const set = sets.sets.get(name);
  if (set === undefined) {
    return {
      result: "undecided",
      reason: `ipset ${name} is not in ${sets.file}`,
      missingSet: name,
      evidence: [],
      notes: [],
    };
  }
  const head = ev(sets, set.line, set.text);
  if (set.type === undefined) {
    return {
      result: "undecided",
      reason: `set type ${set.typeName} of ${name} is not known`,
      evidence: [head],
      notes: [],
    };
  }
  if (set.type === "list:set") {
    if (depth > 8)
      return { result: "undecided", reason: `list:set ${name} nests too deep`, evidence: [head], notes: [] };
    return listMatch(sets, set, flags, packet, options, depth);
  }
  const dims = IPSET_DIMENSIONS[set.type];
  if (flags.length < dims.length) {
    return {
      result: "no-match",
      evidence: [head],
      reason: `${name} has ${dims.length} dimensions, the rule gives ${flags.length} flag(s)`,
      notes: [],
    };
  }
  if (set.family === "inet6") {
    return { result: "no-match", evidence: [head], reason: `${name} is an IPv6 set`, notes: [] };
  }
  let best: IpsetMember | undefined;
  let bestSpec: number[] = [];
  let pending: string | undefined;
  for (const m of set.members) {
    const r = memberMatches(set, m, packet, flags);
    if (r === true) {
      const spec = specificity(m);
      if (best === undefined || moreSpecific(spec, bestSpec)) {
        best = m;
        bestSpec = spec;
      }
    } else if (typeof r === "string" && pending === undefined) pending = r;
  }
  const what = describePacket(packet, flags, dims.length);
  if (best === undefined) {
    if (pending !== undefined) return { result: "undecided", reason: pending, evidence: [head], notes: [] };
    return { result: "no-match", evidence: [head], reason: `${what} is not in ${name}`, notes: [] };
  }
  const inSet = best.nomatch === (options.returnNomatch === true);
  const reason = best.nomatch
    ? `${what} falls in the nomatch member "${best.element}" of ${name}`
    : `${what} is in ${name} ("${best.element}")`;
  return {
    result: inSet ? "match" : "no-match",
    evidence: [head, ev(sets, best.line, best.text)],
    reason,
    notes: timeoutNotes(set, best),
  };
}

function describePacket(packet: SetPacket, flags: readonly SetDirection[], dims: number): string {
  return flags
    .slice(0, dims)
    .map((f, i) =>
      i === 1 && dims > 1
        ? `${packet.proto}:${f === "src" ? packet.sport : packet.dport}`
        : formatIpv4(f === "src" ? packet.src : packet.dst),
    )
    .join(",");
}

/**
 * Whether `packet` is in set `name` as `-m set --match-set NAME FLAGS` sees it (negation is the
 * caller's: this is the plain test). `sets` undefined means the node's `ipset save` was not collected.
 *
 * @example
 * ```ts
 * const sets = parseIpsetSave("create S hash:ip family inet\nadd S 10.42.0.5\n", { file: "nodes/n1/ipset-save.txt" });
 * matchSet(sets, "S", "src", { src: parseIpv4("10.42.0.5")!, dst: 0, proto: "tcp", sport: -1, dport: 80 }).result; // "match"
 * ```
 */
export function matchSet(
  sets: IpsetSave | undefined,
  name: string,
  flags: readonly SetDirection[] | string,
  packet: SetPacket,
  options: MatchSetOptions = {},
): SetMatchResult {
  const dirs = typeof flags === "string" ? parseSetFlags(flags) : flags;
  if (dirs === undefined || dirs.length === 0) {
    return {
      result: "undecided",
      reason: `set flags "${String(flags)}" are not src/dst`,
      evidence: [],
      notes: [],
    };
  }
  if (sets === undefined) {
    return {
      result: "undecided",
      reason: `ipset ${name} cannot be read: the node's \`ipset save\` output (ipset-save.txt) was not collected`,
      missingSet: name,
      evidence: [],
      notes: [],
    };
  }
  return matchSetAt(sets, name, dirs, packet, options, 0);
}
