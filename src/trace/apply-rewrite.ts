/**
 * Applies a non-jump target's changes to a path's state: marks, conntrack, and NAT. A NAT target
 * also replaces the reported headers and yields its transform step (headers before and after).
 */
import type { Address, Headers } from "../model/flow.ts";
import type { NatAction, TransformStep } from "../model/trace-step.ts";
import { endpointText, formatIpv4 } from "../net/ipv4.ts";
import { type CompiledRule, memoOf } from "./compile-rule.ts";
import type { CompiledTarget, NatRange } from "./compile-target.ts";
import type { ChainInfo, TraceIndex } from "./trace-index.ts";
import type { WalkState } from "./walk-state.ts";

type NatTarget = Extract<CompiledTarget, { kind: "dnat" | "snat" | "masquerade" | "redirect" }>;

/** Applies a MARK, CONNMARK or NOTRACK target (the others change nothing here). */
export function applyMarks(t: CompiledTarget, st: WalkState): void {
  switch (t.kind) {
    case "mark":
      st.mark = t.apply(st.mark);
      break;
    case "connmark":
      if (!st.untracked) [st.mark, st.ctmark] = t.apply(st.mark, st.ctmark);
      break;
    case "notrack":
      st.untracked = true;
      break;
    default:
  }
}

/**
 * The address a NAT range gives a packet whose port was `port` (-1: not known, or no port at all
 * when `hasPorts` is false): exact when the range leaves one choice, else the range itself.
 */
function mappedAddress(r: NatRange, port: number, hasPorts: boolean): Address {
  if (port >= 0 && r.exact !== undefined) return r.exact;
  const rulePorts = hasPorts && r.minPort !== undefined;
  // The kernel keeps a port that already lies in the range (and any port when the rule gives none).
  const keeps = !rulePorts || (port >= 0 && port >= r.minPort! && port <= r.maxPort!);
  const lo = keeps ? port : r.minPort!;
  const hi = keeps ? port : r.maxPort!;
  if (r.minIp === r.maxIp && lo === hi) {
    return lo < 0 ? { kind: "exact", ip: r.minIpText } : { kind: "exact", ip: r.minIpText, port: lo };
  }
  const range = { kind: "range", minIp: r.minIpText, maxIp: r.maxIpText } as {
    -readonly [K in keyof RangeAddress]: RangeAddress[K];
  };
  if (lo >= 0) {
    range.minPort = lo;
    range.maxPort = hi;
  }
  return range;
}

type RangeAddress = Extract<Address, { kind: "range" }>;

/** Rewrites the state's numbers for a NAT target and returns the new destination or source. */
function rewrite(t: NatTarget, st: WalkState, redirectTo: number | undefined): Address {
  switch (t.kind) {
    case "dnat": {
      const r = t.range!;
      const to = mappedAddress(r, st.dport, st.proto !== "icmp");
      // A range keeps the numbers rules match on: the kernel's choice is not in the dump.
      if (r.minIp === r.maxIp) st.dst = r.minIp;
      if (to.kind === "exact" && to.port !== undefined) st.dport = to.port;
      st.dnat = true;
      return to;
    }
    case "snat": {
      const r = t.range;
      const to = mappedAddress(r, st.sport, st.proto !== "icmp");
      if (to.kind === "exact") {
        st.src = r.minIp;
        if (to.port !== undefined) st.sport = to.port;
      }
      st.snat = true;
      return to;
    }
    case "masquerade":
      st.snat = true;
      st.masquerade = true;
      return st.sport < 0 ? OUT_INTERFACE : { kind: "out-interface", port: st.sport };
    case "redirect":
      st.dst = redirectTo!;
      if (t.port !== undefined && st.dport >= 0) st.dport = t.port;
      st.dnat = true;
      return st.dport < 0
        ? { kind: "exact", ip: formatIpv4(st.dst) }
        : { kind: "exact", ip: formatIpv4(st.dst), port: st.dport };
    default: {
      const never: never = t;
      throw new TypeError(`Unknown NAT target ${JSON.stringify(never)}`);
    }
  }
}

const OUT_INTERFACE: Address = { kind: "out-interface" };

/**
 * Applies a NAT target to the path's state (numbers and reported headers) and returns its transform
 * step. `redirectTo` is the node address a REDIRECT sends to.
 */
export function applyNat(
  where: { readonly index: TraceIndex; readonly info: ChainInfo; readonly c: CompiledRule },
  st: WalkState,
  branch: { readonly q: number | undefined; readonly redirectTo: number | undefined },
): TransformStep {
  const t = where.c.target as NatTarget;
  const before = st.hdr;
  const to = rewrite(t, st, branch.redirectTo);
  const source = t.kind === "snat" || t.kind === "masquerade";
  const after: Headers = source
    ? { protocol: before.protocol, src: to, dst: before.dst }
    : { protocol: before.protocol, src: before.src, dst: to };
  st.hdr = after;
  const action: NatAction =
    t.kind === "redirect" ? { kind: "redirect", to: endpointText(st.dst, st.dport) } : t.action;
  const c = where.c;
  const memo = memoOf(c);
  if (memo.natEvidence === undefined) {
    memo.natEvidence = { file: where.index.file, line: c.rule.line };
    memo.natRule = c.rule.text;
  }
  return {
    kind: "transform",
    backend: "iptables",
    table: where.info.table,
    chain: where.info.name,
    evidence: memo.natEvidence,
    rule: memo.natRule!,
    action,
    probability: branch.q,
    before,
    after,
  };
}
