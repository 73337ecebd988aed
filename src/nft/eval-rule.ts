/**
 * One rule on one packet state: its statements in order. Matches may fork the state (numgen,
 * meta random); the rule ends for a branch when a match fails or a vmap/map lookup misses (NFT_BREAK),
 * or with a verdict, a NAT binding or a reject. A rule that cannot be evaluated yields "undecided",
 * except when nothing it could do changes this packet (only counters, logs, set updates), which is
 * safe to skip.
 */
import { evalExpr, resolveLookup, typeOf } from "./eval-expr.ts";
import { evalMatch } from "./eval-match.ts";
import { evalNat, type NatContext } from "./eval-nat.ts";
import { literal } from "./nft-datatypes.ts";
import { cloneState, type PacketState } from "./nft-packet.ts";
import type { NftExpr, NftRule, NftStmt, NftVerdict } from "./nft-ruleset.ts";
import { lookup } from "./set-lookup.ts";

/** How a rule ended for one branch. */
export type RuleEnd =
  /** No match (or a lookup miss): go on with the next rule. */
  | { readonly kind: "next"; readonly acted: boolean }
  | { readonly kind: "verdict"; readonly verdict: NftVerdict }
  /** A NAT binding was made: the chain accepts. */
  | { readonly kind: "nat" }
  | { readonly kind: "reject"; readonly type: string; readonly code: string }
  | { readonly kind: "drop" }
  | { readonly kind: "undecided"; readonly reason: string };

export interface RuleBranch {
  readonly st: PacketState;
  readonly end: RuleEnd;
  /** What the rule did on this branch (empty when it did not match). */
  readonly actions: readonly string[];
}

interface Live {
  st: PacketState;
  actions: string[];
}

/** Statements that cannot change this packet's fate: a rule made only of them is safe to skip. */
function harmless(s: NftStmt): boolean {
  switch (s.kind) {
    case "match":
    case "counter":
    case "log":
    case "setop":
      return true;
    case "xt":
      return s.type === "match";
    case "other":
      return s.effect === "none" || s.effect === "match";
    default:
      return false;
  }
}

function verdictText(v: NftVerdict): string {
  return v.kind === "jump" || v.kind === "goto" ? `${v.kind} ${v.target}` : v.kind;
}

function defaultReject(rule: NftRule): { type: string; code: string } {
  return rule.family === "ip"
    ? { type: "icmp", code: "port-unreachable" }
    : { type: "icmpx", code: "port-unreachable" };
}

const IGNORED_MANGLE = new Set(["nftrace", "priority", "secmark"]);

/** `meta mark set`, `ct mark set`, and stateless header rewrites of addresses and ports. */
function mangle(s: NftStmt & { kind: "mangle" }, st: PacketState, ctx: NatContext): string | undefined {
  const k = s.key;
  if (k.kind === "meta" && IGNORED_MANGLE.has(k.key)) return undefined;
  if (k.kind === "ct" && k.key !== "mark") return undefined;
  const target =
    k.kind === "meta" && k.key === "mark"
      ? "mark"
      : k.kind === "ct"
        ? "ctmark"
        : k.kind === "payload"
          ? `${k.protocol} ${k.field}`
          : undefined;
  if (target === undefined) return `setting ${k.kind} is not modelled`;
  const v =
    s.value.kind === "immediate"
      ? literal(target === "ip saddr" || target === "ip daddr" ? "ipv4_addr" : "integer", s.value.value)
      : undefined;
  const value =
    v !== undefined ? { kind: "ok" as const, branches: [{ p: 1, values: [v] }] } : evalExpr(s.value, st, ctx);
  if (
    value.kind !== "ok" ||
    value.branches.length !== 1 ||
    typeof value.branches[0]!.values[0] !== "number"
  ) {
    return `the value set by ${target} cannot be computed`;
  }
  const n = value.branches[0]!.values[0] as number;
  if (target === "mark") st.mark = n >>> 0;
  else if (target === "ctmark") {
    if (st.ct === "tracked") st.ctMark = n >>> 0;
  } else if (target === "ip saddr") st.src = n;
  else if (target === "ip daddr") st.dst = n;
  else if (/^(tcp|udp|th) dport$/.test(target)) st.dport = n;
  else if (/^(tcp|udp|th) sport$/.test(target)) st.sport = n;
  else if (!/^(ip (dscp|ttl|tos|ecn)|tcp option)/.test(target)) return `setting ${target} is not modelled`;
  return undefined;
}

function lookupVerdicts(s: NftStmt & { kind: "vmap" }, live: Live, ctx: NatContext): RuleBranch[] | string {
  const key = evalExpr(s.key, live.st, ctx);
  if (key.kind === "absent") return [{ st: live.st, end: { kind: "next", acted: false }, actions: [] }];
  if (key.kind === "unknown") return key.reason;
  const target = resolveLookup(s.data, typeOf(s.key, ctx.table), ctx);
  if (typeof target === "string") return target;
  const name = s.data.kind === "setref" ? `@${s.data.name}` : "{ ... }";
  const out: RuleBranch[] = [];
  for (const b of key.branches) {
    const st = key.branches.length === 1 ? live.st : cloneState(live.st);
    st.probability *= b.p;
    const el = b.absent ? undefined : lookup(target.index, b.values);
    const data: NftExpr | undefined = el?.data;
    if (data === undefined || data.kind !== "verdict") {
      if (target.index.unreadable > 0)
        return `${target.index.unreadable} element(s) of ${name} could not be read`;
      out.push({ st, end: { kind: "next", acted: false }, actions: [] });
      continue;
    }
    const what = `vmap ${name}${b.label === undefined ? "" : ` ${b.label}`}: ${verdictText(data.verdict)}`;
    out.push({ st, end: { kind: "verdict", verdict: data.verdict }, actions: [...live.actions, what] });
  }
  return out;
}

/** Runs one statement on every live branch; finished branches go to `done`. */
function step(
  s: NftStmt,
  lives: Live[],
  rule: NftRule,
  ctx: NatContext,
  done: RuleBranch[],
): Live[] | string {
  const next: Live[] = [];
  for (const live of lives) {
    switch (s.kind) {
      case "match": {
        const r = evalMatch(s, live.st, ctx);
        if (r.kind === "unknown") return r.reason;
        for (const o of r.outcomes) {
          const st = r.outcomes.length === 1 ? live.st : cloneState(live.st);
          st.probability *= o.p;
          if (!o.matched) done.push({ st, end: { kind: "next", acted: false }, actions: [] });
          else next.push({ st, actions: o.label === undefined ? live.actions : [...live.actions, o.label] });
        }
        break;
      }
      case "verdict":
        done.push({
          st: live.st,
          end: { kind: "verdict", verdict: s.verdict },
          actions: [...live.actions, verdictText(s.verdict)],
        });
        break;
      case "vmap": {
        const r = lookupVerdicts(s, live, ctx);
        if (typeof r === "string") return r;
        done.push(...r);
        break;
      }
      case "nat": {
        const r = evalNat(s, live.st, ctx);
        if (r.kind === "unknown") return r.reason;
        if (r.kind === "drop")
          done.push({ st: live.st, end: { kind: "drop" }, actions: [...live.actions, r.action] });
        else {
          for (const b of r.branches) {
            if (b.missed) done.push({ st: b.st, end: { kind: "next", acted: false }, actions: [] });
            else done.push({ st: b.st, end: { kind: "nat" }, actions: [...live.actions, b.action] });
          }
        }
        break;
      }
      case "reject": {
        // `reject with icmpv6 ...` in an inet table carries an implicit `meta nfproto ipv6` that the
        // JSON leaves out: an IPv4 packet does not match the rule.
        if (s.type === "icmpv6") {
          done.push({ st: live.st, end: { kind: "next", acted: false }, actions: [] });
          break;
        }
        const d = defaultReject(rule);
        const type = s.type ?? d.type;
        // `reject with tcp reset` carries an implicit `meta l4proto tcp` (left out of the JSON too).
        if (type === "tcp reset" && live.st.proto !== 6) {
          done.push({ st: live.st, end: { kind: "next", acted: false }, actions: [] });
          break;
        }
        const code = s.code ?? (type === "tcp reset" ? "" : d.code);
        done.push({
          st: live.st,
          end: { kind: "reject", type, code },
          actions: [...live.actions, `reject with ${type}${code === "" ? "" : ` ${code}`}`],
        });
        break;
      }
      case "mangle": {
        const err = mangle(s, live.st, ctx);
        if (err !== undefined) return err;
        next.push({ st: live.st, actions: [...live.actions, `${describeKey(s.key)} set`] });
        break;
      }
      case "notrack":
        if (live.st.ct === "none") live.st.ct = "untracked";
        next.push({ st: live.st, actions: [...live.actions, "notrack"] });
        break;
      case "counter":
        next.push(live);
        break;
      case "log":
        next.push({
          st: live.st,
          actions: [...live.actions, s.prefix === undefined ? "log" : `log prefix "${s.prefix}"`],
        });
        break;
      case "setop":
        next.push({ st: live.st, actions: [...live.actions, `${s.op} @${s.set}`] });
        break;
      case "xt":
        if (s.type === "match" && s.name === "comment") {
          next.push(live);
          break;
        }
        return `xt ${s.type} ${s.name} (written by iptables-nft: read this chain from iptables-nft-save)`;
      case "other":
        if (s.effect !== "none") return `statement ${s.name} is not modelled`;
        next.push(live);
        break;
      default: {
        const never: never = s;
        throw new TypeError(`Unknown statement ${JSON.stringify(never)}`);
      }
    }
  }
  return next;
}

function describeKey(k: NftExpr): string {
  if (k.kind === "meta") return `meta ${k.key}`;
  if (k.kind === "ct") return `ct ${k.key}`;
  if (k.kind === "payload") return `${k.protocol} ${k.field}`;
  return k.kind;
}

/** Evaluates `rule` on `st` (which it may change or copy); one entry per branch. */
export function evalRule(rule: NftRule, st: PacketState, ctx: NatContext): RuleBranch[] {
  const done: RuleBranch[] = [];
  let lives: Live[] = [{ st, actions: [] }];
  const before = cloneState(st);
  for (const s of rule.stmts) {
    const r = step(s, lives, rule, ctx, done);
    if (typeof r === "string") {
      // Nothing this rule can do changes the packet: skipping it is exact.
      if (rule.stmts.every(harmless))
        return [{ st: before, end: { kind: "next", acted: false }, actions: [] }];
      return [{ st: before, end: { kind: "undecided", reason: r }, actions: [] }];
    }
    lives = r;
    if (lives.length === 0) break;
  }
  const idle = rule.stmts.some((s) => s.kind === "counter") ? "counter" : "match (no statement)";
  for (const l of lives) {
    done.push({
      st: l.st,
      end: { kind: "next", acted: true },
      actions: l.actions.length === 0 ? [idle] : l.actions,
    });
  }
  return done;
}
