/**
 * One rule on one packet state: its statements in order. Matches may fork the state (numgen,
 * meta random); the rule ends for a branch when a match fails or a vmap/map lookup misses (NFT_BREAK),
 * or with a verdict, a NAT binding or a reject. A rule that cannot be evaluated yields "undecided",
 * except when nothing it could do changes this packet (only counters, logs, set updates), which is
 * safe to skip.
 */
import { evalExpr } from "./eval-expr.ts";
import { resolveLookup } from "./eval-lookup.ts";
import { mangle } from "./eval-mangle.ts";
import { evalMatch } from "./eval-match.ts";
import { evalNat, type NatContext } from "./eval-nat.ts";
import { typeOf } from "./expr-type.ts";
import { cloneState, type NftAct, type PacketState } from "./nft-packet.ts";
import type { NftExpr, NftRule, NftStmt, NftVerdict } from "./nft-ruleset.ts";
import { nftRejectEffect } from "./reject-effect.ts";
import { describeKey, describeValue, mangleAct, verdictAct, verdictText } from "./rule-acts.ts";
import { lookup } from "./set-lookup.ts";

/** One thing a rule did: in words and typed. */
export interface Did {
  /** Empty for a random choice recorded only as a typed `branch`. */
  readonly text: string;
  readonly act: NftAct;
}

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
  readonly actions: readonly Did[];
}

interface Live {
  st: PacketState;
  actions: Did[];
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

function defaultReject(rule: NftRule): { type: string; code: string } {
  return rule.family === "ip"
    ? { type: "icmp", code: "port-unreachable" }
    : { type: "icmpx", code: "port-unreachable" };
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
    const fork: Did[] =
      b.label === undefined || b.p === 1
        ? []
        : [{ text: "", act: { kind: "branch", label: b.label, probability: b.p } }];
    out.push({
      st,
      end: { kind: "verdict", verdict: data.verdict },
      actions: [...live.actions, ...fork, { text: what, act: verdictAct(data.verdict) }],
    });
  }
  return out;
}

const NO_MATCH = (st: PacketState): RuleBranch => ({ st, end: { kind: "next", acted: false }, actions: [] });

/** Statements that end the rule: verdicts, verdict maps, NAT, reject. Returns why it cannot decide. */
function terminal(
  s: NftStmt,
  live: Live,
  rule: NftRule,
  ctx: NatContext,
  done: RuleBranch[],
): string | undefined {
  const acts = (text: string, act: NftAct) => [...live.actions, { text, act }];
  switch (s.kind) {
    case "verdict":
      done.push({
        st: live.st,
        end: { kind: "verdict", verdict: s.verdict },
        actions: acts(verdictText(s.verdict), verdictAct(s.verdict)),
      });
      return undefined;
    case "vmap": {
      const r = lookupVerdicts(s, live, ctx);
      if (typeof r === "string") return r;
      done.push(...r);
      return undefined;
    }
    case "nat": {
      const r = evalNat(s, live.st, ctx);
      if (r.kind === "unknown") return r.reason;
      if (r.kind === "drop")
        done.push({ st: live.st, end: { kind: "drop" }, actions: acts(r.action, { kind: "drop" }) });
      else
        for (const b of r.branches)
          done.push(
            b.missed
              ? NO_MATCH(b.st)
              : { st: b.st, end: { kind: "nat" }, actions: [...live.actions, ...b.actions] },
          );
      return undefined;
    }
    case "reject": {
      const d = defaultReject(rule);
      const type = s.type ?? d.type;
      // Implicit dependencies the JSON leaves out: `reject with icmpv6` holds `meta nfproto ipv6`,
      // `reject with tcp reset` holds `meta l4proto tcp`: other packets do not match the rule.
      if (type === "icmpv6" || (type === "tcp reset" && live.st.proto !== 6)) {
        done.push(NO_MATCH(live.st));
        return undefined;
      }
      const code = s.code ?? (type === "tcp reset" ? "" : d.code);
      done.push({
        st: live.st,
        end: { kind: "reject", type, code },
        actions: acts(`reject with ${type}${code === "" ? "" : ` ${code}`}`, {
          kind: "reject",
          rejectWith: nftRejectEffect(type, code)?.rejectWith ?? `${type} ${code}`.trim(),
        }),
      });
      return undefined;
    }
    default:
      throw new TypeError(`Statement ${s.kind} is not terminal`);
  }
}

/** Statements after which the rule goes on: matches, marks, logs, counters, set updates. */
function passThrough(
  s: NftStmt,
  live: Live,
  ctx: NatContext,
  next: Live[],
  done: RuleBranch[],
): string | undefined {
  const with_ = (text: string, act: NftAct): Live => ({
    st: live.st,
    actions: [...live.actions, { text, act }],
  });
  switch (s.kind) {
    case "match": {
      const r = evalMatch(s, live.st, ctx);
      if (r.kind === "unknown") return r.reason;
      for (const o of r.outcomes) {
        const st = r.outcomes.length === 1 ? live.st : cloneState(live.st);
        st.probability *= o.p;
        if (!o.matched) done.push(NO_MATCH(st));
        else if (o.label === undefined) next.push({ st, actions: live.actions });
        else {
          const act: NftAct = { kind: "branch", label: o.label, probability: o.p };
          next.push({ st, actions: [...live.actions, { text: o.label, act }] });
        }
      }
      return undefined;
    }
    case "mangle": {
      const err = mangle(s, live.st, ctx);
      if (err !== undefined) return err;
      next.push(with_(`${describeKey(s.key)} set ${describeValue(s.value)}`, mangleAct(s)));
      return undefined;
    }
    case "notrack":
      if (live.st.ct === "none") live.st.ct = "untracked";
      next.push(with_("notrack", { kind: "notrack" }));
      return undefined;
    case "log":
      next.push(with_(s.prefix === undefined ? "log" : `log prefix "${s.prefix}"`, { kind: "log" }));
      return undefined;
    case "setop":
      next.push(with_(`${s.op} @${s.set}`, { kind: "set-update", set: s.set }));
      return undefined;
    case "xt":
      if (s.type !== "match" || s.name !== "comment") {
        return `xt ${s.type} ${s.name} (written by iptables-nft: read this chain from iptables-nft-save)`;
      }
      next.push(live);
      return undefined;
    case "other":
      if (s.effect !== "none") return `statement ${s.name} is not modelled`;
      next.push(live);
      return undefined;
    default:
      next.push(live);
      return undefined;
  }
}

const TERMINAL = new Set(["verdict", "vmap", "nat", "reject"]);

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
    const err = TERMINAL.has(s.kind)
      ? terminal(s, live, rule, ctx, done)
      : passThrough(s, live, ctx, next, done);
    if (err !== undefined) return err;
  }
  return next;
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
  const idle: Did = {
    text: rule.stmts.some((s) => s.kind === "counter") ? "counter" : "match (no statement)",
    act: { kind: "count" },
  };
  for (const l of lives) {
    done.push({
      st: l.st,
      end: { kind: "next", acted: true },
      actions: l.actions.some((a) => a.text !== "") ? l.actions : [...l.actions, idle],
    });
  }
  return done;
}
