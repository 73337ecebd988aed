/**
 * The typed steps (model/trace-step.ts) of a path of the nftables whole-host walk: one step per
 * action of each nft rule that acted (`backend: "nft"`, family, table, chain, evidence with line and
 * handle), and, for the chains evaluated from an iptables dump, the iptables tracer's own steps.
 * NAT steps carry the headers before and after, replayed from the flow as sent.
 */

import type { Address, Headers } from "../model/flow.ts";
import type { FilterAction, FilterStep, NatAction, Step, TransformStep } from "../model/trace-step.ts";
import type { NftAct, NftStep } from "../nft/nft-packet.ts";
import type { DelegateSteps } from "./iptables-delegate.ts";

/** `ip[:port]` or `ip-ip[:port-port]` as nft steps write NAT targets. */
export function addressOf(to: string, keepPort: number | undefined): Address {
  const m = /^([\d.]+)(?:-([\d.]+))?(?::(\d+)(?:-(\d+))?)?$/.exec(to);
  if (m === null) return { kind: "out-interface", ...(keepPort === undefined ? {} : { port: keepPort }) };
  const [, min, max, p1, p2] = m;
  const port = p1 === undefined ? keepPort : Number(p1);
  if (max !== undefined || p2 !== undefined) {
    return {
      kind: "range",
      minIp: min!,
      maxIp: max ?? min!,
      ...(port === undefined ? {} : { minPort: port, maxPort: p2 === undefined ? port : Number(p2) }),
    };
  }
  return port === undefined ? { kind: "exact", ip: min! } : { kind: "exact", ip: min!, port };
}

function portOf(a: Address): number | undefined {
  return a.kind === "exact" || a.kind === "out-interface" ? a.port : a.minPort;
}

function filterAction(act: NftAct): FilterAction | undefined {
  switch (act.kind) {
    case "jump":
    case "goto":
      return { kind: act.kind, target: act.target };
    case "return":
    case "accept":
    case "drop":
    case "notrack":
      return { kind: act.kind };
    case "continue":
      return { kind: "continue", target: "continue" };
    case "log":
      return { kind: "continue", target: "log" };
    case "count":
    case "set-update":
      return { kind: "count" };
    case "reject":
      return { kind: "reject", rejectWith: act.rejectWith };
    case "mark":
      return act.on === "meta"
        ? { kind: "mark", op: act.op, value: act.value }
        : { kind: "connmark", options: `ct mark ${act.op} ${act.value}` };
    case "policy":
      return { kind: "policy", policy: act.policy === "drop" ? "DROP" : "ACCEPT" };
    case "cannot-decide":
      return { kind: "cannot-decide", reason: act.reason, needs: "manual-check" };
    case "branch":
    case "dnat":
    case "snat":
    case "redirect":
    case "masquerade":
      return undefined;
    default: {
      const never: never = act;
      throw new TypeError(`Unknown nft act ${JSON.stringify(never)}`);
    }
  }
}

function natAction(act: NftAct): NatAction | undefined {
  switch (act.kind) {
    case "dnat":
    case "snat":
    case "redirect":
      return { kind: act.kind, to: act.to };
    case "masquerade":
      return { kind: "masquerade" };
    default:
      return undefined;
  }
}

/** Replays the headers through the NAT acts. */
function rewrite(h: Headers, act: NftAct): Headers {
  switch (act.kind) {
    case "dnat":
    case "redirect":
      return { ...h, dst: addressOf(act.to, portOf(h.dst)) };
    case "snat":
      return { ...h, src: addressOf(act.to, portOf(h.src)) };
    case "masquerade":
      return {
        ...h,
        src:
          act.to === undefined
            ? { kind: "out-interface", ...(portOf(h.src) === undefined ? {} : { port: portOf(h.src)! }) }
            : addressOf(act.to, portOf(h.src)),
      };
    default:
      return h;
  }
}

/**
 * The typed steps of one path, first to last, and the headers after them. `flow` is the packet as
 * sent; `delegated` maps the marker steps of iptables chains to their typed steps.
 */
export function nftPathSteps(
  steps: readonly NftStep[],
  flow: Headers,
  delegated: DelegateSteps,
): { steps: Step[]; headers: Headers } {
  const out: Step[] = [];
  let headers = flow;
  for (const s of steps) {
    const typed = delegated.get(s);
    if (typed !== undefined) {
      for (const t of typed) {
        out.push(t);
        if (t.kind === "transform") headers = t.after;
      }
      continue;
    }
    const base = {
      backend: "nft" as const,
      table: s.table,
      family: s.family,
      chain: s.chain,
      evidence: {
        file: s.evidence.file,
        // Line 0: only the JSON dump was read, the handle is the evidence.
        line: s.evidence.line ?? 0,
        ...(s.evidence.handle === undefined ? {} : { handle: s.evidence.handle }),
      },
      rule: s.evidence.text,
    };
    let probability: number | undefined;
    for (const act of s.acts) {
      if (act.kind === "branch") {
        probability = act.probability;
        continue;
      }
      const nat = natAction(act);
      const p = probability === undefined ? {} : { probability };
      if (nat !== undefined) {
        const after = rewrite(headers, act);
        const step: TransformStep = { kind: "transform", ...base, ...p, action: nat, before: headers, after };
        out.push(step);
        headers = after;
        continue;
      }
      const action = filterAction(act);
      if (action === undefined) continue;
      const step: FilterStep = { kind: "filter", ...base, ...p, action };
      out.push(step);
    }
  }
  return { steps: out, headers };
}
