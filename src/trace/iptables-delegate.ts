/**
 * Evaluates one iptables built-in chain (from an iptables-save dump) for a packet of the nftables
 * whole-host walk (src/nft/trace-nft-host.ts): the state is handed to the iptables tracer's chain
 * walker, and each path it returns goes back as an nft chain path. Used for iptables-nft tables
 * (whose `xt` rules the nft JSON cannot show) and for legacy xtables tables (which are not in the nft
 * ruleset at all), each in its place in priority order.
 *
 * The typed steps of the iptables walk cannot live in the nft packet state (its steps are nft
 * steps), so each delegated chain leaves one marker step there and the typed steps are kept in
 * {@linkcode DelegateSteps}, looked up by the marker when the trace is built (trace-host.ts).
 */

import type { Headers } from "../model/flow.ts";
import type { TableName } from "../model/ruleset.ts";
import type { Step } from "../model/trace-step.ts";
import { formatIpv4 } from "../net/ipv4.ts";
import type { ChainPath } from "../nft/eval-chain.ts";
import { cloneState, type NftStep, type PacketState, UNKNOWN_IF } from "../nft/nft-packet.ts";
import type { NftHook } from "../nft/nft-ruleset.ts";
import { PROTOCOL_NUMBERS } from "./match-test.ts";
import type { TraceIndex } from "./trace-index.ts";
import type { TraceOptions, TraceRequest } from "./trace-request.ts";
import { policyStep, stepsOf } from "./trace-steps.ts";
import { walkChain } from "./walk-chain.ts";
import { ACCEPT, DROP, type Outcome, outcome, type Walk } from "./walk-context.ts";
import type { Hook, WalkState } from "./walk-state.ts";

/** Marker step → the typed steps of the iptables walk it stands for. */
export type DelegateSteps = Map<NftStep, readonly Step[]>;

const HOOKS: Readonly<Record<string, Hook>> = {
  prerouting: "PREROUTING",
  input: "INPUT",
  forward: "FORWARD",
  output: "OUTPUT",
  postrouting: "POSTROUTING",
};

/** iptables' `--reject-with` name → nft's reject type and code (what nftRejectEffect reads). */
function nftReject(rejectWith: string): { type: string; code: string } {
  if (rejectWith === "tcp-reset") return { type: "tcp reset", code: "" };
  const code = rejectWith.replace(/^icmp-/, "").replace("proto-unreachable", "prot-unreachable");
  return { type: "icmp", code };
}

/** The iptables tracer's view of an nft packet state. */
function walkState(st: PacketState, hook: Hook, request: TraceRequest): WalkState {
  const proto = request.packet.protocol;
  const port = (ip: number, p: number | undefined) =>
    p === undefined
      ? { kind: "exact" as const, ip: formatIpv4(ip) }
      : { kind: "exact" as const, ip: formatIpv4(ip), port: p };
  const hdr: Headers = { protocol: proto, src: port(st.src, st.sport), dst: port(st.dst, st.dport) };
  const dev = (d: string | undefined) => (d === UNKNOWN_IF ? undefined : (d ?? ""));
  return {
    hook,
    from: request.from,
    proto,
    protoNum: PROTOCOL_NUMBERS[proto]!,
    src: st.src,
    dst: st.dst,
    sport: st.sport ?? -1,
    dport: st.dport ?? -1,
    origSrc: st.orig.src,
    origDst: st.orig.dst,
    origSport: st.orig.sport ?? -1,
    origDport: st.orig.dport ?? -1,
    mark: st.mark,
    ctmark: st.ctMark,
    dnat: st.dst !== st.orig.dst || st.dport !== st.orig.dport,
    snat: st.src !== st.orig.src || st.sport !== st.orig.sport || st.masquerade,
    untracked: st.ct === "untracked",
    masquerade: st.masquerade,
    inIf: dev(st.iif),
    outIf: dev(st.oif),
    hdr,
    recent: undefined,
  };
}

/** The chain's end for the nft walk, and the iptables walk's state written back into `st`. */
function back(o: Outcome, st: PacketState, table: TableName): ChainPath["end"] {
  const w = o.st;
  const dnat = w.dst !== st.dst || w.dport !== (st.dport ?? -1);
  const snat = w.src !== st.src || w.sport !== (st.sport ?? -1) || (w.masquerade && !st.masquerade);
  st.src = w.src;
  st.dst = w.dst;
  if (w.sport >= 0) st.sport = w.sport;
  if (w.dport >= 0) st.dport = w.dport;
  st.mark = w.mark >>> 0;
  st.ctMark = w.ctmark >>> 0;
  st.masquerade = w.masquerade;
  if (w.untracked) st.ct = "untracked";
  if (dnat) st.natDst = true;
  if (snat) st.natSrc = true;
  const v = o.v;
  switch (v.k) {
    case "accept":
    case "return":
      return { kind: "accept", by: table === "nat" && (dnat || snat) ? "nat" : "rule" };
    case "drop":
      return { kind: "drop", by: "rule" };
    case "reject":
      return { kind: "reject", ...nftReject(v.rejectWith) };
    case "unknown":
      return { kind: "undecided", reason: v.why.reason };
    default: {
      const never: never = v;
      throw new TypeError(`Unknown verdict ${JSON.stringify(never)}`);
    }
  }
}

/** What one iptables dump needs to be walked chain by chain. */
export interface IptablesChains {
  readonly index: TraceIndex;
  /** `iptables-nft` (in the nft ruleset too) or `legacy` (xtables, not in it). */
  readonly backend: "iptables-nft" | "legacy";
  readonly request: TraceRequest;
  readonly localIps: readonly number[];
  readonly steps: DelegateSteps;
  /** The node's ipsets (`-m set`) and whether the packet crossed a bridge (`-m physdev`). */
  readonly extras?: Pick<TraceOptions, "ipsets" | "bridged">;
}

/**
 * The paths of `table`'s built-in chain at `hook` for `st`, or undefined when the dump does not have
 * that chain (the caller then evaluates the nft rules, if any).
 */
export function iptablesChainPaths(
  src: IptablesChains,
  at: { readonly table: TableName; readonly hook: NftHook },
  st: PacketState,
): ChainPath[] | undefined {
  const hook = HOOKS[at.hook];
  if (hook === undefined) return undefined;
  const info = src.index.builtins.get(at.table)?.get(hook);
  if (info === undefined) return undefined;
  const walk: Walk = {
    index: src.index,
    ctx: {
      localIps: [...src.localIps],
      bridged: src.extras?.bridged,
      nthCounters: "unknown",
      ipsets: src.extras?.ipsets,
    },
    request: src.request,
    options: { file: src.index.file },
    frames: [],
    paths: 1,
    maxPaths: 4096,
  };
  const head = outcome(1, walkState(st, hook, src.request), undefined, ACCEPT);
  const results: Outcome[] = [];
  if (walkChain(walk, { info, head, out: results })) results.push({ ...head, v: { k: "return" } });
  const paths: ChainPath[] = [];
  for (const o of results) {
    if (o.v.k === "return") {
      const policy = info.chain.policy ?? "ACCEPT";
      if (policy === "DROP" || info.length > 0) {
        const step = policyStep(src.index, info);
        o.trail = { s: step, prev: o.trail };
        if (policy === "DROP") o.v = DROP;
      }
    }
    const typed = stepsOf(o.trail);
    const next = cloneState(st);
    next.probability = st.probability * o.p;
    const end = back(o, next, at.table);
    if (typed.length > 0) {
      const marker: NftStep = {
        family: "ip",
        table: at.table,
        chain: hook,
        kind: "rule",
        action: `${src.backend} ${at.table} ${hook}`,
        acts: [],
        evidence: { file: src.index.file, text: `${at.table} ${hook} (${src.backend})` },
      };
      src.steps.set(marker, typed);
      next.steps.push(marker);
    }
    paths.push({ state: next, end });
  }
  return paths;
}
