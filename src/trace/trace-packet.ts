/**
 * Walks the first packet of a connection through a node's iptables rules the way netfilter does:
 * hooks in kernel order, tables in priority order, jumps, gotos, RETURN, policies, NAT and MARK
 * rewrites, statistic branches. Pure: no I/O.
 */
import type { Rule, TableName } from "../model/ruleset.ts";
import type { Disposition, Ingress, Packet, TraceResult, TracePath, TraceStep } from "../model/trace.ts";
import { PROTOCOL_NUMBERS, type MatchContext, type MatchResult } from "./compile-match.ts";
import { type CompiledRule, endpointText } from "./compile-rule.ts";
import { formatIpv4, inCidr, parseCidr, parseIpv4 } from "./ipv4.ts";
import { rejectEffect } from "./reject-errno.ts";
import { buildTraceIndex, type ChainInfo, candidateRules, compiledRule, type TraceIndex } from "./trace-index.ts";
import { cloneState, type Hook, type WalkState } from "./walk-state.ts";

export { buildTraceIndex, type TraceIndex } from "./trace-index.ts";

/** What to trace: the packet, where it enters, and what the node looks like. */
export interface TraceRequest {
  readonly packet: Packet;
  readonly from: Ingress;
  /** The node's own addresses: routing (local vs forward) and `addrtype LOCAL`. */
  readonly localIps?: readonly string[];
  /** The interface a `pod` packet arrives on (for `-i`); unknown when absent. */
  readonly inInterface?: string;
  /** The interface the packet leaves by (for `-o`); unknown when absent. */
  readonly outInterface?: string;
}

export interface TraceOptions {
  /** A prebuilt {@linkcode buildTraceIndex} for this ruleset, to share across many traces. */
  readonly index?: TraceIndex;
  /** The out-interface for a destination after rewrites (overrides `outInterface`). */
  readonly routeInterface?: (dstIp: string) => string | undefined;
  /** Whether the packet crossed a Linux bridge (decides `-m physdev`); unknown by default. */
  readonly bridged?: boolean;
  /** `fresh` evaluates `statistic --mode nth` as on a just-loaded ruleset (default: unknown). */
  readonly nthCounters?: "fresh" | "unknown";
  /** Stop forking after this many paths (default 4096); the rest becomes one `unknown` path. */
  readonly maxPaths?: number;
}

type Verdict =
  | { readonly k: "accept" }
  | { readonly k: "drop" }
  | { readonly k: "return" }
  | { readonly k: "reject"; readonly rejectWith: string }
  | { readonly k: "unknown"; readonly reason: string };

interface Outcome {
  readonly p: number;
  readonly st: WalkState;
  readonly steps: TraceStep[];
  readonly v: Verdict;
  /** The step that decided a drop/reject. */
  readonly by?: TraceStep;
}

interface Walk {
  readonly index: TraceIndex;
  readonly ctx: MatchContext;
  readonly request: TraceRequest;
  readonly options: TraceOptions;
  paths: number;
  readonly maxPaths: number;
}

const ACCEPT: Verdict = { k: "accept" };
const DROP: Verdict = { k: "drop" };
const RETURN: Verdict = { k: "return" };
const MAX_DEPTH = 64;
const LOOPBACK = parseCidr("127.0.0.0/8")!;

/**
 * Traces one packet. Each returned path has a probability (they sum to 1), a disposition, the
 * destination after rewrites and every rule that acted on the way, with its dump line.
 *
 * @example
 * ```ts
 * const r = tracePacket(ruleset, { packet: { protocol: "tcp", srcIp: "10.42.0.5", dstIp: "10.43.0.10", dstPort: 53 }, from: "pod" });
 * r.paths[0].disposition; // "forward"
 * ```
 * @throws {TypeError} When the packet's addresses are not IPv4 (the tracer reads IPv4 dumps).
 */
export function tracePacket(
  ruleset: TraceIndex["ruleset"],
  request: TraceRequest,
  options: TraceOptions = {},
): TraceResult {
  const index = options.index ?? buildTraceIndex(ruleset, { eager: false });
  if (index.ruleset !== ruleset) throw new TypeError("Cannot trace with an index built for another ruleset");
  const { packet } = request;
  const src = parseIpv4(packet.srcIp);
  const dst = parseIpv4(packet.dstIp);
  if (src === undefined) throw new TypeError(`Cannot trace source "${packet.srcIp}": not an IPv4 address`);
  if (dst === undefined) throw new TypeError(`Cannot trace destination "${packet.dstIp}": not an IPv4 address`);
  let localIps: number[] | undefined;
  if (request.localIps !== undefined) {
    localIps = [];
    for (const ip of request.localIps) {
      const n = parseIpv4(ip);
      if (n === undefined) throw new TypeError(`Cannot use local address "${ip}": not an IPv4 address`);
      localIps.push(n);
    }
  }
  const sport = packet.protocol === "icmp" ? -1 : (packet.srcPort ?? -1);
  const dport = packet.protocol === "icmp" ? -1 : (packet.dstPort ?? -1);
  const st: WalkState = {
    hook: request.from === "pod" ? "PREROUTING" : "OUTPUT",
    from: request.from,
    proto: packet.protocol,
    protoNum: PROTOCOL_NUMBERS[packet.protocol]!,
    src,
    dst,
    sport,
    dport,
    origSrc: src,
    origDst: dst,
    origSport: sport,
    origDport: dport,
    mark: 0,
    ctmark: 0,
    dnat: false,
    snat: false,
    untracked: false,
    masquerade: false,
    inIf: undefined,
    outIf: undefined,
    recent: undefined,
  };
  const walk: Walk = {
    index,
    ctx: { localIps, bridged: options.bridged, nthCounters: options.nthCounters ?? "unknown" },
    request,
    options,
    paths: 1,
    maxPaths: options.maxPaths ?? 4096,
  };
  const finals = request.from === "pod" ? fromPod(walk, st) : fromHost(walk, st);
  return { packet, from: request.from, paths: finals.map((o) => toPath(walk, o)) };
}

type Live = { p: number; st: WalkState; steps: TraceStep[] };

function isLocalDst(walk: Walk, st: WalkState): boolean {
  return inCidr(st.dst, LOOPBACK) || (walk.ctx.localIps?.includes(st.dst) ?? false);
}

function routeOut(walk: Walk, st: WalkState): string | undefined {
  const r = walk.options.routeInterface?.(formatIpv4(st.dst));
  return r ?? walk.request.outInterface;
}

/** Runs one hook's tables over the live paths; finished paths go to `done`. */
function hook(walk: Walk, name: Hook, tables: readonly TableName[], live: Live[], done: Outcome[]): Live[] {
  let current = live;
  for (const table of tables) {
    const next: Live[] = [];
    for (const l of current) {
      l.st.hook = name;
      if (table === "nat" && l.st.untracked) {
        next.push(l);
        continue;
      }
      for (const o of runBuiltin(walk, table, name, l)) {
        if (o.v.k === "accept") next.push({ p: o.p, st: o.st, steps: o.steps });
        else done.push(o);
      }
    }
    current = next;
  }
  return current;
}

function fromPod(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = walk.request.inInterface;
  st0.outIf = "";
  let live = hook(walk, "PREROUTING", ["raw", "mangle", "nat"], [{ p: 1, st: st0, steps: [] }], done);
  const local: Live[] = [];
  const fwd: Live[] = [];
  for (const l of live) (isLocalDst(walk, l.st) ? local : fwd).push(l);
  const finished: Outcome[] = [];
  for (const l of hook(walk, "INPUT", ["mangle", "filter", "security", "nat"], local, done)) {
    finished.push({ ...l, v: ACCEPT });
  }
  for (const l of fwd) l.st.outIf = routeOut(walk, l.st);
  live = hook(walk, "FORWARD", ["mangle", "filter", "security"], fwd, done);
  for (const l of hook(walk, "POSTROUTING", ["mangle", "nat"], live, done)) finished.push({ ...l, v: ACCEPT });
  return done.concat(finished);
}

function fromHost(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = "";
  st0.outIf = isLocalDst(walk, st0) ? "lo" : routeOut(walk, st0);
  let live = hook(walk, "OUTPUT", ["raw", "mangle", "nat"], [{ p: 1, st: st0, steps: [] }], done);
  // nat OUTPUT may have changed the destination: the kernel routes again.
  for (const l of live) l.st.outIf = isLocalDst(walk, l.st) ? "lo" : routeOut(walk, l.st);
  live = hook(walk, "OUTPUT", ["filter", "security"], live, done);
  live = hook(walk, "POSTROUTING", ["mangle", "nat"], live, done);
  const finished: Outcome[] = [];
  const local: Live[] = [];
  for (const l of live) (isLocalDst(walk, l.st) ? local : finished).push(l as Outcome);
  for (const l of finished) (l as { v: Verdict }).v = ACCEPT;
  // Over loopback the packet comes back in; its connection is already NATed, so nat is skipped.
  for (const l of local) {
    l.st.inIf = "lo";
    l.st.outIf = "";
  }
  let back = hook(walk, "PREROUTING", ["raw", "mangle"], local, done);
  back = hook(walk, "INPUT", ["mangle", "filter", "security"], back, done);
  for (const l of back) finished.push({ ...l, v: ACCEPT });
  return done.concat(finished);
}

function policyStep(info: ChainInfo, policy: "ACCEPT" | "DROP"): TraceStep {
  const c = info.chain;
  return {
    table: info.table,
    chain: c.name,
    line: c.line,
    rule: `:${c.name} ${policy} [${c.counters.packets}:${c.counters.bytes}]`,
    action: `policy ${policy}`,
  };
}

function runBuiltin(walk: Walk, table: TableName, chain: string, l: Live): Outcome[] {
  const info = walk.index.chains.get(table)?.get(chain);
  if (info === undefined) return [{ ...l, v: ACCEPT }];
  const out: Outcome[] = [];
  for (const o of walkChain(walk, info, l.st, l.p, l.steps, 0)) {
    if (o.v.k !== "return") {
      out.push(o);
      continue;
    }
    const policy = info.chain.policy ?? "ACCEPT";
    if (policy === "DROP" || info.chain.rules.length > 0) {
      const step = policyStep(info, policy);
      o.steps.push(step);
      out.push(policy === "DROP" ? { ...o, v: DROP, by: step } : { ...o, v: ACCEPT });
    } else {
      out.push({ ...o, v: ACCEPT });
    }
  }
  return out;
}

function walkChain(walk: Walk, info: ChainInfo, st: WalkState, p: number, steps: TraceStep[], depth: number): Outcome[] {
  const cands = candidateRules(info, st.dst, st.dport);
  return walkFrom(walk, info, cands, 0, st, p, steps, depth);
}

const FORK = Symbol("fork");

/** Evaluates tests without forking; FORK when a probability needs the slow path. */
function evalFast(c: CompiledRule, st: WalkState, ctx: MatchContext): boolean | string | typeof FORK {
  let pending: string | undefined;
  const tests = c.tests;
  for (let i = 0; i < tests.length; i++) {
    const r = tests[i]!(st, ctx);
    if (r === true) continue;
    if (r === false) return false;
    if (typeof r === "string") {
      pending ??= r;
      continue;
    }
    return FORK;
  }
  return pending ?? true;
}

interface Branch {
  readonly q: number;
  readonly st: WalkState;
  readonly res: boolean | string;
  readonly random: boolean;
}

/** Evaluates tests in order, splitting at each probability; side effects land in each branch's state. */
function evalSlow(c: CompiledRule, st: WalkState, ctx: MatchContext): Branch[] {
  const out: Branch[] = [];
  const go = (from: number, bst: WalkState, q: number, pending: string | undefined, random: boolean): void => {
    for (let i = from; i < c.tests.length; i++) {
      const r: MatchResult = c.tests[i]!(bst, ctx);
      if (r === true) continue;
      if (r === false) {
        out.push({ q, st: bst, res: false, random });
        return;
      }
      if (typeof r === "string") {
        pending ??= r;
        continue;
      }
      out.push({ q: q * (1 - r), st: cloneState(bst), res: false, random: true });
      q *= r;
      random = true;
    }
    out.push({ q, st: bst, res: pending ?? true, random });
  };
  go(0, st, 1, undefined, false);
  return out;
}

function walkFrom(
  walk: Walk,
  info: ChainInfo,
  cands: readonly number[] | null,
  pos: number,
  st: WalkState,
  p: number,
  steps: TraceStep[],
  depth: number,
): Outcome[] {
  const n = cands === null ? info.chain.rules.length : cands.length;
  for (let k = pos; k < n; k++) {
    const ri = cands === null ? k : cands[k]!;
    const c = compiledRule(walk.index, info, ri);
    const r = evalFast(c, st, walk.ctx);
    if (r === false) continue;
    const rule = info.chain.rules[ri]!;
    if (typeof r === "string") return [unknownOutcome(info, rule, r, st, p, steps)];
    if (r === true) return applyTarget(walk, info, cands, k, rule, c, st, p, steps, depth, undefined);
    // A statistic match: fork into branches.
    // Matched branches first: the taken jump reads best before the fall-through.
    const branches = evalSlow(c, cloneState(st), walk.ctx).reverse();
    const out: Outcome[] = [];
    for (const b of branches) {
      const bp = p * b.q;
      if (bp <= 0) continue;
      walk.paths += 1;
      if (walk.paths > walk.maxPaths) {
        out.push(unknownOutcome(info, rule, `more than ${walk.maxPaths} random branches`, b.st, bp, steps.slice()));
        continue;
      }
      const bsteps = steps.slice();
      if (b.res === false) out.push(...walkFrom(walk, info, cands, k + 1, b.st, bp, bsteps, depth));
      else if (typeof b.res === "string") out.push(unknownOutcome(info, rule, b.res, b.st, bp, bsteps));
      else out.push(...applyTarget(walk, info, cands, k, rule, c, b.st, bp, bsteps, depth, b.q));
    }
    walk.paths -= 1;
    return out;
  }
  return [{ p, st, steps, v: RETURN }];
}

function unknownOutcome(info: ChainInfo, rule: Rule, reason: string, st: WalkState, p: number, steps: TraceStep[]): Outcome {
  const step: TraceStep = { table: info.table, chain: info.chain.name, line: rule.line, rule: rule.text, action: "cannot decide" };
  steps.push(step);
  return { p, st, steps, v: { k: "unknown", reason: `Cannot decide line ${rule.line}: ${reason}` }, by: step };
}

function fmtProb(q: number | undefined): string {
  return q === undefined ? "" : ` (random, p=${Number(q.toPrecision(6))})`;
}

function applyTarget(
  walk: Walk,
  info: ChainInfo,
  cands: readonly number[] | null,
  k: number,
  rule: Rule,
  c: CompiledRule,
  st: WalkState,
  p: number,
  steps: TraceStep[],
  depth: number,
  q: number | undefined,
): Outcome[] {
  const t = c.target;
  const step = (action: string): TraceStep => {
    const s: TraceStep = { table: info.table, chain: info.chain.name, line: rule.line, rule: rule.text, action: action + fmtProb(q) };
    steps.push(s);
    return s;
  };
  const next = () => walkFrom(walk, info, cands, k + 1, st, p, steps, depth);
  switch (t.kind) {
    case "none":
      step("match (no target)");
      return next();
    case "continue":
      step(`${t.name} (continue)`);
      return next();
    case "mark":
      st.mark = t.apply(st.mark);
      step(`MARK ${t.text.trim()}: mark now 0x${st.mark.toString(16)}`);
      return next();
    case "connmark": {
      if (!st.untracked) [st.mark, st.ctmark] = t.apply(st.mark, st.ctmark);
      step(`CONNMARK ${t.text}: mark 0x${st.mark.toString(16)}, connmark 0x${st.ctmark.toString(16)}`);
      return next();
    }
    case "notrack":
      st.untracked = true;
      step("NOTRACK: the connection is not tracked, nat is skipped");
      return next();
    case "accept":
      step("ACCEPT");
      return [{ p, st, steps, v: ACCEPT }];
    case "drop": {
      const by = step("DROP");
      return [{ p, st, steps, v: DROP, by }];
    }
    case "reject": {
      const by = step(`REJECT --reject-with ${t.rejectWith}`);
      return [{ p, st, steps, v: { k: "reject", rejectWith: t.rejectWith }, by }];
    }
    case "return":
      step("RETURN");
      return [{ p, st, steps, v: RETURN }];
    case "dnat": {
      if (t.range === undefined) return [unknownOutcome(info, rule, "DNAT without --to-destination", st, p, steps)];
      const r = t.range;
      if (r.minIp === r.maxIp) st.dst = r.minIp;
      else st.dstText = r.text;
      if (r.minPort !== undefined && st.dport >= 0) {
        if (r.minPort === r.maxPort) st.dport = r.minPort;
        // The kernel keeps a port that already lies in the range.
        else if (st.dport < r.minPort || st.dport > r.maxPort!) st.dstText = r.text;
      }
      st.dnat = true;
      step(`DNAT to ${st.dstText ?? endpointText(st.dst, st.dport)}`);
      return [{ p, st, steps, v: ACCEPT }];
    }
    case "snat": {
      const r = t.range;
      st.snat = true;
      if (r.minIp === r.maxIp && (r.minPort === undefined || r.minPort === r.maxPort)) {
        st.src = r.minIp;
        if (r.minPort !== undefined && st.sport >= 0) st.sport = r.minPort;
      } else st.srcText = r.text;
      step(`SNAT to ${r.text}`);
      return [{ p, st, steps, v: ACCEPT }];
    }
    case "masquerade":
      st.snat = true;
      st.masquerade = true;
      step("MASQUERADE (source becomes the out-interface's address)");
      return [{ p, st, steps, v: ACCEPT }];
    case "redirect": {
      const local = st.hook === "OUTPUT" ? parseIpv4("127.0.0.1")! : walk.ctx.localIps?.[0];
      if (local === undefined) {
        return [unknownOutcome(info, rule, "REDIRECT goes to the in-interface's address, which is not known (give --local-ip)", st, p, steps)];
      }
      st.dst = local;
      if (t.port !== undefined && st.dport >= 0) st.dport = t.port;
      st.dnat = true;
      step(`REDIRECT to ${endpointText(st.dst, st.dport)}`);
      return [{ p, st, steps, v: ACCEPT }];
    }
    case "chain": {
      const target = walk.index.chains.get(info.table)?.get(t.name);
      if (target === undefined) return [unknownOutcome(info, rule, `chain "${t.name}" does not exist`, st, p, steps)];
      if (depth >= MAX_DEPTH) return [unknownOutcome(info, rule, `jumps nest deeper than ${MAX_DEPTH}`, st, p, steps)];
      step(`${t.goto ? "goto" : "jump"} ${t.name}`);
      const results = walkChain(walk, target, st, p, steps, depth + 1);
      if (t.goto) return results;
      const out: Outcome[] = [];
      for (const o of results) {
        if (o.v.k === "return") out.push(...walkFrom(walk, info, cands, k + 1, o.st, o.p, o.steps, depth));
        else out.push(o);
      }
      return out;
    }
    case "unknown":
      return [unknownOutcome(info, rule, t.reason, st, p, steps)];
    default: {
      const never: never = t;
      throw new TypeError(`Unknown target kind ${JSON.stringify(never)}`);
    }
  }
}

function toPath(walk: Walk, o: Outcome): TracePath {
  const st = o.st;
  const destination = st.dstText ?? endpointText(st.dst, st.dport);
  const mark = st.mark === 0 ? undefined : `0x${st.mark.toString(16)}`;
  const base = {
    probability: o.p,
    destination,
    masquerade: st.masquerade,
    ...(st.masquerade ? {} : { source: st.srcText ?? endpointText(st.src, st.sport) }),
    ...(mark === undefined ? {} : { mark }),
    steps: o.steps,
  };
  const by = o.by === undefined ? "" : o.by.action.startsWith("policy") ? `the ${o.by.table} ${o.by.chain} policy (line ${o.by.line})` : `line ${o.by.line}`;
  let disposition: Disposition;
  // A datagram the node's own OUTPUT/POSTROUTING drops or rejects fails in sendmsg() with EPERM
  // (kernel-verified); TCP ignores that error on the SYN and waits for the ICMP reply or times out.
  const sendFails = walk.request.from === "host" && st.proto !== "tcp" && (st.hook === "OUTPUT" || st.hook === "POSTROUTING");
  switch (o.v.k) {
    case "accept": {
      const local = isLocalDst(walk, st) && st.dstText === undefined;
      disposition = local ? "local" : "forward";
      const rewrites = st.dnat ? `DNAT to ${destination}, then ` : "";
      const masq = st.masquerade ? " (masqueraded)" : st.snat ? ` (SNAT to ${base.source ?? st.srcText})` : "";
      return {
        ...base,
        disposition,
        reason: `${rewrites}${local ? "delivered to the node" : "forwarded"}${masq}`,
      };
    }
    case "drop":
      return {
        ...base,
        disposition: "drop",
        ...(sendFails ? { clientError: "EPERM" } : {}),
        reason: `DROPped by ${by}: the client sees no answer (timeout)`,
      };
    case "reject": {
      const effect = rejectEffect(o.v.rejectWith)!;
      const err = sendFails ? "EPERM" : st.proto === "tcp" ? effect.tcpError : st.proto === "udp" ? effect.udpError : undefined;
      return {
        ...base,
        disposition: "reject",
        rejectWith: effect.rejectWith,
        ...(err === undefined ? {} : { clientError: err }),
        reason: `REJECTed by ${by} with ${effect.rejectWith}`,
      };
    }
    case "unknown":
      return { ...base, disposition: "unknown", reason: o.v.reason };
    case "return":
      return { ...base, disposition: "unknown", reason: "internal: RETURN escaped a built-in chain" };
    default: {
      const never: never = o.v;
      throw new TypeError(`Unknown verdict ${JSON.stringify(never)}`);
    }
  }
}
