/**
 * What a `-m` match reads among the {@linkcode StateKind}s, and whether it has per-evaluation state.
 * Decisions are documented in docs/fix-duplicates.md.
 */
import type { Match, RuleOption } from "../model/ruleset.ts";
import { ALL_STATE, StateKind } from "./state-kind.ts";

/** Matches with per-evaluation state: each copy is its own instance, evaluated independently. */
const STATEFUL_MATCHES: Readonly<Record<string, string>> = {
  statistic: "statistic draws a random number or counts packets (nth) on every evaluation",
  limit: "limit keeps a token bucket per rule: a second copy has its own bucket",
  hashlimit: "hashlimit keeps rate buckets that every evaluation updates",
  connlimit: "connlimit counts connections, a per-evaluation state",
  quota: "quota decrements its byte budget on every match",
  recent: "recent reads and updates its address lists on every evaluation",
  nfacct: "nfacct updates an accounting object and matches on its quota",
  rateest: "rateest matches on rate estimators that change with traffic",
};

/** Matches that read only what no non-terminating target changes. */
const FIXED_MATCHES: ReadonlySet<string> = new Set([
  "comment",
  "addrtype",
  "ah",
  "esp",
  "ipcomp",
  "l2tp",
  "dccp",
  "sctp",
  "icmp",
  "icmp6",
  "udp",
  "udplite",
  "multiport",
  "iprange",
  "frag",
  "hbh",
  "dst",
  "rt",
  "mh",
  "ipv6header",
  "eui64",
  "mac",
  "physdev",
  "pkttype",
  "devgroup",
  "cpu",
  "realm",
  "policy",
  "owner",
  "cgroup",
  "ipvs",
  "time",
  "rpfilter",
  "unclean",
]);

const HEADER_MATCHES: ReadonlySet<string> = new Set([
  "dscp",
  "tos",
  "ecn",
  "ttl",
  "hl",
  "length",
  "tcpmss",
  "u32",
  "string",
  "bpf",
  "osf",
]);

const CT_MATCHES: ReadonlySet<string> = new Set(["conntrack", "state", "helper", "connbytes", "cluster"]);

/** How a match relates to mutable state. */
export interface MatchClass {
  reads: number;
  writes: number;
  stateful?: string;
  unknown?: string;
}

function has(options: readonly RuleOption[], ...names: string[]): boolean {
  return options.some((o) => names.includes(o.name));
}

/** Classifies one `-m` match. */
export function classifyMatch(match: Match): MatchClass {
  const m = match.module;
  const stateful = STATEFUL_MATCHES[m];
  if (stateful !== undefined) {
    return {
      reads: m === "recent" ? StateKind.recent : 0,
      writes: m === "recent" ? StateKind.recent : 0,
      stateful,
    };
  }
  if (!match.known)
    return { reads: ALL_STATE, writes: ALL_STATE, unknown: `match module "${m || "(none)"}" is not known` };
  if (FIXED_MATCHES.has(m)) return { reads: 0, writes: 0 };
  if (m === "tcp") {
    // Ports never change in a traversal; flags and options can (ECN, TCPOPTSTRIP, TCPMSS).
    return {
      reads: has(match.options, "--tcp-flags", "--syn", "--tcp-option") ? StateKind.header : 0,
      writes: 0,
    };
  }
  if (m === "mark") return { reads: StateKind.mark, writes: 0 };
  if (m === "connmark") return { reads: StateKind.connmark, writes: 0 };
  if (CT_MATCHES.has(m)) return { reads: StateKind.ct, writes: 0 };
  if (m === "connlabel") {
    return has(match.options, "--set")
      ? {
          reads: StateKind.ct,
          writes: StateKind.ct,
          stateful: "connlabel --set labels the connection as it matches",
        }
      : { reads: StateKind.ct, writes: 0 };
  }
  if (m === "set") {
    if (match.options.some((o) => /^--(packets|bytes)-/.test(o.name))) {
      return {
        reads: StateKind.ipset,
        writes: 0,
        stateful: "set with counter conditions reads per-element counters",
      };
    }
    return { reads: StateKind.ipset, writes: 0 };
  }
  if (m === "socket") {
    return has(match.options, "--restore-skmark")
      ? {
          reads: 0,
          writes: StateKind.mark,
          stateful: "socket --restore-skmark sets the packet mark as it matches",
        }
      : { reads: 0, writes: 0 };
  }
  if (HEADER_MATCHES.has(m)) return { reads: StateKind.header, writes: 0 };
  // Known to the parser but not classified here: treat like an unknown module.
  return {
    reads: ALL_STATE,
    writes: ALL_STATE,
    unknown: `match module "${m}" is not classified for deduplication`,
  };
}
