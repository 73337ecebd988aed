/**
 * Walks the first packet of a connection through a node's iptables rules the way netfilter does:
 * hooks in kernel order, tables in priority order, jumps, gotos, RETURN, policies, NAT and MARK
 * rewrites, statistic branches. Pure: no I/O.
 */
import type { Rule, TableName } from "../model/ruleset.ts";
import type { Ingress, Packet, TracePath, TraceResult, TraceStep } from "../model/trace.ts";
import { type MatchContext, type MatchResult, PROTOCOL_NUMBERS } from "./compile-match.ts";
import { type CompiledRule, type CompiledTarget, endpointText } from "./compile-rule.ts";
import { formatIpv4, inCidr, parseCidr, parseIpv4 } from "./ipv4.ts";
import { rejectEffect } from "./reject-errno.ts";
import {
  buildTraceIndex,
  type ChainInfo,
  candidateRules,
  chainInfo,
  compiledRule,
  type TraceIndex,
} from "./trace-index.ts";
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

/** The steps of a path as a persistent list: forks share their common prefix without copying. */
interface Trail {
  readonly s: TraceStep;
  readonly prev: Trail | undefined;
}

/** One path's state while walking; `v` is its verdict once a chain or hook has decided. */
interface Outcome {
  p: number;
  st: WalkState;
  trail: Trail | undefined;
  v: Verdict;
  /** The step that decided a drop/reject/unknown. */
  by?: TraceStep;
}

interface Walk {
  readonly index: TraceIndex;
  readonly ctx: MatchContext;
  readonly request: TraceRequest;
  readonly options: TraceOptions;
  paths: number;
  readonly maxPaths: number;
  /** Where {@linkcode applyTarget} leaves the walk's continuation (see {@linkcode next}). */
  nextSt: WalkState | undefined;
  nextP: number;
  nextTrail: Trail | undefined;
  /** The text of the packet's own source, once a path needed it. */
  srcText: string | undefined;
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
  if (dst === undefined)
    throw new TypeError(`Cannot trace destination "${packet.dstIp}": not an IPv4 address`);
  const localIps = request.localIps === undefined ? undefined : parseLocalIps(request.localIps);
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
    nextSt: undefined,
    nextP: 0,
    nextTrail: undefined,
    srcText: undefined,
  };
  const finals = request.from === "pod" ? fromPod(walk, st) : fromHost(walk, st);
  const paths: TracePath[] = [];
  for (const o of finals) paths.push(toPath(walk, o));
  return { packet, from: request.from, paths };
}

/** The last local address list parsed, reused while callers pass the same addresses. */
let lastLocalTexts: readonly string[] = [];
let lastLocalIps: number[] = [];

function parseLocalIps(texts: readonly string[]): number[] {
  if (texts.length === lastLocalTexts.length) {
    let same = true;
    for (let i = 0; i < texts.length && same; i++) same = texts[i] === lastLocalTexts[i];
    if (same) return lastLocalIps;
  }
  const ips: number[] = [];
  for (const ip of texts) {
    const n = parseIpv4(ip);
    if (n === undefined) throw new TypeError(`Cannot use local address "${ip}": not an IPv4 address`);
    ips.push(n);
  }
  // A copy: the caller may change its array later.
  lastLocalTexts = [...texts];
  lastLocalIps = ips;
  return ips;
}

function isLocalDst(walk: Walk, st: WalkState): boolean {
  return inCidr(st.dst, LOOPBACK) || (walk.ctx.localIps?.includes(st.dst) ?? false);
}

function routeOut(walk: Walk, st: WalkState): string | undefined {
  const r = walk.options.routeInterface?.(formatIpv4(st.dst));
  return r ?? walk.request.outInterface;
}

/** Runs one hook's tables over the live paths; decided paths go to `done`. */
function hook(
  walk: Walk,
  name: Hook,
  tables: readonly TableName[],
  live: Outcome[],
  done: Outcome[],
): Outcome[] {
  let current = live;
  for (const table of tables) {
    const info = walk.index.builtins.get(table)?.get(name);
    if (info === undefined) continue;
    const next: Outcome[] = [];
    for (const l of current) {
      l.st.hook = name;
      if (table === "nat" && l.st.untracked) {
        next.push(l);
        continue;
      }
      const results: Outcome[] = [];
      walkFrom(walk, info, candidateRules(info, l.st.dst, l.st.dport), 0, l.st, l.p, l.trail, 0, results);
      for (const o of results) {
        if (o.v.k === "return") applyPolicy(info, o);
        if (o.v.k === "accept") next.push(o);
        else done.push(o);
      }
    }
    current = next;
  }
  return current;
}

function newPath(st: WalkState): Outcome {
  return { p: 1, st, trail: undefined, v: ACCEPT };
}

function fromPod(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = walk.request.inInterface;
  st0.outIf = "";
  const live = hook(walk, "PREROUTING", PRE_TABLES, [newPath(st0)], done);
  const local: Outcome[] = [];
  const fwd: Outcome[] = [];
  for (const l of live) (isLocalDst(walk, l.st) ? local : fwd).push(l);
  const finished = hook(walk, "INPUT", INPUT_TABLES, local, done);
  for (const l of fwd) l.st.outIf = routeOut(walk, l.st);
  const forwarded = hook(
    walk,
    "POSTROUTING",
    POST_TABLES,
    hook(walk, "FORWARD", FORWARD_TABLES, fwd, done),
    done,
  );
  for (const l of forwarded) finished.push(l);
  for (const l of finished) done.push(l);
  return done;
}

const PRE_TABLES: readonly TableName[] = ["raw", "mangle", "nat"];
const INPUT_TABLES: readonly TableName[] = ["mangle", "filter", "security", "nat"];
const FORWARD_TABLES: readonly TableName[] = ["mangle", "filter", "security"];
const POST_TABLES: readonly TableName[] = ["mangle", "nat"];

function fromHost(walk: Walk, st0: WalkState): Outcome[] {
  const done: Outcome[] = [];
  st0.inIf = "";
  st0.outIf = isLocalDst(walk, st0) ? "lo" : routeOut(walk, st0);
  // Every table of the OUTPUT hook sees the out-interface of the first route lookup: the kernel
  // re-routes after a nat OUTPUT DNAT, but the hook's `-o` device is fixed when the hook is entered
  // (kernel-verified). POSTROUTING sees the new route.
  let live = hook(walk, "OUTPUT", ["raw", "mangle", "nat", "filter", "security"], [newPath(st0)], done);
  for (const l of live) l.st.outIf = isLocalDst(walk, l.st) ? "lo" : routeOut(walk, l.st);
  live = hook(walk, "POSTROUTING", POST_TABLES, live, done);
  const finished: Outcome[] = [];
  const local: Outcome[] = [];
  for (const l of live) (isLocalDst(walk, l.st) ? local : finished).push(l);
  // Over loopback the packet comes back in; its connection is already NATed, so nat is skipped.
  for (const l of local) {
    l.st.inIf = "lo";
    l.st.outIf = "";
  }
  const back = hook(
    walk,
    "INPUT",
    ["mangle", "filter", "security"],
    hook(walk, "PREROUTING", ["raw", "mangle"], local, done),
    done,
  );
  for (const l of back) finished.push(l);
  for (const l of finished) done.push(l);
  return done;
}

function applyPolicy(info: ChainInfo, o: Outcome): void {
  const policy = info.chain.policy ?? "ACCEPT";
  if (policy === "DROP" || info.chain.rules.length > 0) {
    let step = info.policyStep;
    if (step === undefined) {
      const c = info.chain;
      step = {
        table: info.table,
        chain: c.name,
        line: c.line,
        rule: `:${c.name} ${policy} [${c.counters.packets}:${c.counters.bytes}]`,
        action: `policy ${policy}`,
      };
      info.policyStep = step;
    }
    o.trail = { s: step, prev: o.trail };
    if (policy === "DROP") {
      o.v = DROP;
      o.by = step;
      return;
    }
  }
  o.v = ACCEPT;
}

const FORK = Symbol("fork");

/** The rule's IP header checks (see {@linkcode CompiledRule.sm}). */
function headerMatches(c: CompiledRule, st: WalkState): boolean {
  return (
    ((st.src & c.sm) === c.sb) !== c.sn &&
    ((st.dst & c.dm) === c.db) !== c.dn &&
    (c.pr < 0 || (st.protoNum === c.pr) !== c.pn) &&
    (c.dplo < 0 || (st.dport >= 0 && (st.dport >= c.dplo && st.dport <= c.dphi) !== c.dpn))
  );
}

/** Evaluates tests without forking; FORK when a probability needs the slow path. */
function evalFast(c: CompiledRule, st: WalkState, ctx: MatchContext): boolean | string | typeof FORK {
  if (!headerMatches(c, st)) return false;
  if (c.prob > 0) return FORK;
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
}

/** Evaluates tests in order, splitting at each probability; side effects land in each branch's state. */
function evalSlow(c: CompiledRule, st: WalkState, ctx: MatchContext): Branch[] {
  const out: Branch[] = [];
  let q = 1;
  let pending: string | undefined;
  if (!headerMatches(c, st)) {
    out.push({ q, st, res: false });
    return out;
  }
  if (c.prob > 0) {
    // What the statistic test would answer as the rule's only test: the two branches.
    out.push({ q: 1 - c.prob, st: cloneState(st), res: false });
    out.push({ q: c.prob, st, res: true });
    return out;
  }
  for (let i = 0; i < c.tests.length; i++) {
    const r: MatchResult = c.tests[i]!(st, ctx);
    if (r === true) continue;
    if (r === false) {
      out.push({ q, st, res: false });
      return out;
    }
    if (typeof r === "string") {
      pending ??= r;
      continue;
    }
    out.push({ q: q * (1 - r), st: cloneState(st), res: false });
    q *= r;
  }
  out.push({ q, st, res: pending ?? true });
  return out;
}

/**
 * Walks a chain from candidate position `pos`, appending every finished path of this chain
 * (accept/drop/reject/unknown, or return) to `out`. A rule whose target lets the walk go on (a
 * non-terminating target, or a jump whose chain returned one path) continues this loop instead of
 * recursing: long chains of such rules neither grow the stack nor allocate result lists.
 */
function walkFrom(
  walk: Walk,
  info: ChainInfo,
  cands: readonly number[] | null,
  pos: number,
  st0: WalkState,
  p0: number,
  trail0: Trail | undefined,
  depth: number,
  out: Outcome[],
): void {
  let st = st0;
  let p = p0;
  let trail = trail0;
  const n = cands === null ? info.length : cands.length;
  for (let k = pos; k < n; k++) {
    const c = compiledRule(walk.index, info, cands === null ? k : cands[k]!);
    const r = evalFast(c, st, walk.ctx);
    if (r === false) continue;
    if (typeof r === "string") {
      out.push(unknownOutcome(info, c.rule, r, st, p, trail));
      return;
    }
    if (r === true) {
      if (!applyTarget(walk, info, cands, k, c, st, p, trail, depth, undefined, out)) return;
      st = walk.nextSt!;
      p = walk.nextP;
      trail = walk.nextTrail;
      continue;
    }
    // A statistic match: fork. Matched branches first: the taken jump reads best before the fall-through.
    const branches = evalSlow(c, cloneState(st), walk.ctx);
    for (let b = branches.length - 1; b >= 0; b--) {
      const br = branches[b]!;
      const bp = p * br.q;
      if (bp <= 0) continue;
      walk.paths += 1;
      if (walk.paths > walk.maxPaths) {
        out.push(
          unknownOutcome(info, c.rule, `more than ${walk.maxPaths} random branches`, br.st, bp, trail),
        );
      } else if (br.res === false) {
        walkFrom(walk, info, cands, k + 1, br.st, bp, trail, depth, out);
      } else if (typeof br.res === "string") {
        out.push(unknownOutcome(info, c.rule, br.res, br.st, bp, trail));
      } else if (applyTarget(walk, info, cands, k, c, br.st, bp, trail, depth, br.q, out)) {
        walkFrom(walk, info, cands, k + 1, walk.nextSt!, walk.nextP, walk.nextTrail, depth, out);
      }
    }
    walk.paths -= 1;
    return;
  }
  out.push({ p, st, trail, v: RETURN });
}

function unknownOutcome(
  info: ChainInfo,
  rule: Rule,
  reason: string,
  st: WalkState,
  p: number,
  trail: Trail | undefined,
): Outcome {
  const step: TraceStep = {
    table: info.table,
    chain: info.chain.name,
    line: rule.line,
    rule: rule.text,
    action: "cannot decide",
  };
  return {
    p,
    st,
    trail: { s: step, prev: trail },
    v: { k: "unknown", reason: `Cannot decide line ${rule.line}: ${reason}` },
    by: step,
  };
}

const probTexts = new Map<number, string>();

function fmtProb(q: number): string {
  let text = probTexts.get(q);
  if (text === undefined) {
    text = ` (random, p=${Number(q.toPrecision(6))})`;
    if (probTexts.size < 4096) probTexts.set(q, text);
  }
  return text;
}

/** The action text of a target that does not depend on the packet, or undefined. */
function staticAction(t: CompiledTarget): string | undefined {
  switch (t.kind) {
    case "none":
      return "match (no target)";
    case "continue":
      return `${t.name} (continue)`;
    case "mark":
      return `MARK ${t.text.trim()}`;
    case "connmark":
      return `CONNMARK ${t.text}`;
    case "notrack":
      return "NOTRACK: the connection is not tracked, nat is skipped";
    case "accept":
      return "ACCEPT";
    case "drop":
      return "DROP";
    case "reject":
      return `REJECT --reject-with ${t.rejectWith}`;
    case "return":
      return "RETURN";
    case "dnat":
      return t.range === undefined ? undefined : `DNAT to ${t.range.text}`;
    case "snat":
      return `SNAT to ${t.range.text}`;
    case "masquerade":
      return "MASQUERADE (source becomes the out-interface's address)";
    case "chain":
      return `${t.goto ? "goto" : "jump"} ${t.name}`;
    case "redirect":
    case "unknown":
      return undefined;
    default: {
      const never: never = t;
      throw new TypeError(`Unknown target kind ${JSON.stringify(never)}`);
    }
  }
}

/** The step of a matched rule; cached per rule when it does not depend on the packet. */
function stepOf(
  info: ChainInfo,
  rule: Rule,
  c: CompiledRule,
  q: number | undefined,
  action?: string,
): TraceStep {
  if (action === undefined) {
    if (q === undefined) {
      if (c.step !== undefined) return c.step;
    } else if (c.qStep !== undefined && c.qStep.q === q) return c.qStep.step;
  }
  const text = action ?? staticAction(c.target) ?? "";
  const step: TraceStep = {
    table: info.table,
    chain: info.chain.name,
    line: rule.line,
    rule: rule.text,
    action: q === undefined ? text : text + fmtProb(q),
  };
  if (action === undefined) {
    if (q === undefined) c.step = step;
    // A statistic rule's matched branch has the same probability every time: keep its step too.
    else c.qStep = { q, step };
  }
  return step;
}

/**
 * Applies a matched rule's target. Returns true when the walk goes on with the chain's next rule,
 * with the state, probability and trail left in `walk.nextSt`/`nextP`/`nextTrail`; false when the
 * paths are finished (pushed to `out`).
 */
function applyTarget(
  walk: Walk,
  info: ChainInfo,
  cands: readonly number[] | null,
  k: number,
  c: CompiledRule,
  st: WalkState,
  p: number,
  trail0: Trail | undefined,
  depth: number,
  q: number | undefined,
  out: Outcome[],
): boolean {
  const t = c.target;
  const rule = c.rule;
  if (t.kind === "unknown") {
    out.push(unknownOutcome(info, rule, t.reason, st, p, trail0));
    return false;
  }
  if (t.kind === "dnat" && t.range === undefined) {
    out.push(unknownOutcome(info, rule, "DNAT without --to-destination", st, p, trail0));
    return false;
  }
  let redirectTo: number | undefined;
  if (t.kind === "redirect") {
    redirectTo = st.hook === "OUTPUT" ? LOCALHOST : walk.ctx.localIps?.[0];
    if (redirectTo === undefined) {
      out.push(
        unknownOutcome(
          info,
          rule,
          "REDIRECT goes to the in-interface's address, which is not known (give --local-ip)",
          st,
          p,
          trail0,
        ),
      );
      return false;
    }
  }
  if (t.kind === "chain") {
    // Resolved once per rule: a Map lookup among 100k+ chain names per jump costs more than the jump.
    let target = c.targetChain;
    if (target === undefined) {
      target = chainInfo(walk.index, info.table, t.name);
      if (target !== undefined) c.targetChain = target;
    }
    if (target === undefined) {
      out.push(unknownOutcome(info, rule, `chain "${t.name}" does not exist`, st, p, trail0));
      return false;
    }
    if (depth >= MAX_DEPTH) {
      out.push(unknownOutcome(info, rule, `jumps nest deeper than ${MAX_DEPTH}`, st, p, trail0));
      return false;
    }
    const trail: Trail = { s: stepOf(info, rule, c, q), prev: trail0 };
    const mark = out.length;
    walkFrom(walk, target, candidateRules(target, st.dst, st.dport), 0, st, p, trail, depth + 1, out);
    if (t.goto) return false;
    // The called chain's paths were appended to `out`; the ones that returned go on here, in place.
    if (out.length === mark + 1) {
      const o = out[mark]!;
      if (o.v.k !== "return") return false;
      out.pop();
      return next(walk, o.st, o.p, o.trail);
    }
    let returned = false;
    for (let i = mark; i < out.length && !returned; i++) returned = out[i]!.v.k === "return";
    if (!returned) return false;
    const results = out.splice(mark);
    for (const o of results) {
      if (o.v.k === "return") walkFrom(walk, info, cands, k + 1, o.st, o.p, o.trail, depth, out);
      else out.push(o);
    }
    return false;
  }
  let action: string | undefined;
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
    case "dnat": {
      const r = t.range!;
      if (r.minIp === r.maxIp) st.dst = r.minIp;
      else st.dstText = r.text;
      if (r.minPort !== undefined && st.dport >= 0) {
        if (r.minPort === r.maxPort) st.dport = r.minPort;
        // The kernel keeps a port that already lies in the range.
        else if (st.dport < r.minPort || st.dport > r.maxPort!) st.dstText = r.text;
      }
      st.dnat = true;
      break;
    }
    case "snat": {
      const r = t.range;
      st.snat = true;
      if (r.minIp === r.maxIp && (r.minPort === undefined || r.minPort === r.maxPort)) {
        st.src = r.minIp;
        if (r.minPort !== undefined && st.sport >= 0) st.sport = r.minPort;
      } else st.srcText = r.text;
      break;
    }
    case "masquerade":
      st.snat = true;
      st.masquerade = true;
      break;
    case "redirect":
      st.dst = redirectTo!;
      if (t.port !== undefined && st.dport >= 0) st.dport = t.port;
      st.dnat = true;
      action = `REDIRECT to ${endpointText(st.dst, st.dport)}`;
      break;
    default:
  }
  const step = stepOf(info, rule, c, q, action);
  const trail: Trail = { s: step, prev: trail0 };
  switch (t.kind) {
    case "none":
    case "continue":
    case "mark":
    case "connmark":
    case "notrack":
      return next(walk, st, p, trail);
    case "drop":
      out.push({ p, st, trail, v: DROP, by: step });
      return false;
    case "reject":
      out.push({ p, st, trail, v: { k: "reject", rejectWith: t.rejectWith }, by: step });
      return false;
    case "return":
      out.push({ p, st, trail, v: RETURN });
      return false;
    default:
      // ACCEPT and the NAT targets end this table's traversal of the hook.
      out.push({ p, st, trail, v: ACCEPT });
      return false;
  }
}

/** Leaves the walk's continuation for {@linkcode walkFrom}. */
function next(walk: Walk, st: WalkState, p: number, trail: Trail | undefined): true {
  walk.nextSt = st;
  walk.nextP = p;
  walk.nextTrail = trail;
  return true;
}

const LOCALHOST = parseIpv4("127.0.0.1")!;

function stepsOf(trail: Trail | undefined): TraceStep[] {
  const steps: TraceStep[] = [];
  for (let t = trail; t !== undefined; t = t.prev) steps.push(t.s);
  return steps.reverse();
}

type MutablePath = { -readonly [K in keyof TracePath]: TracePath[K] };

function toPath(walk: Walk, o: Outcome): TracePath {
  const st = o.st;
  const destination = st.dstText ?? endpointText(st.dst, st.dport);
  // Built field by field in a fixed order (JSON output order), without object spreads: this runs per path.
  const path = { probability: o.p, destination, masquerade: st.masquerade } as MutablePath;
  if (!st.masquerade) {
    // Most paths keep the packet's source: its text is built once per trace.
    if (st.srcText !== undefined) path.source = st.srcText;
    else if (st.src === st.origSrc && st.sport === st.origSport) {
      walk.srcText ??= endpointText(st.src, st.sport);
      path.source = walk.srcText;
    } else path.source = endpointText(st.src, st.sport);
  }
  if (st.mark !== 0) path.mark = `0x${st.mark.toString(16)}`;
  path.steps = stepsOf(o.trail);
  const by =
    o.by === undefined
      ? ""
      : o.by.action.startsWith("policy")
        ? `the ${o.by.table} ${o.by.chain} policy (line ${o.by.line})`
        : `line ${o.by.line}`;
  // A datagram the node's own OUTPUT/POSTROUTING drops or rejects fails in sendmsg() with EPERM
  // (kernel-verified); TCP ignores that error on the SYN and waits for the ICMP reply or times out.
  const sendFails =
    walk.request.from === "host" && st.proto !== "tcp" && (st.hook === "OUTPUT" || st.hook === "POSTROUTING");
  const v = o.v;
  switch (v.k) {
    case "accept": {
      const local = isLocalDst(walk, st) && st.dstText === undefined;
      path.disposition = local ? "local" : "forward";
      const rewrites = st.dnat ? `DNAT to ${destination}, then ` : "";
      const masq = st.masquerade
        ? " (masqueraded)"
        : st.snat
          ? ` (SNAT to ${path.source ?? st.srcText})`
          : "";
      path.reason = `${rewrites}${local ? "delivered to the node" : "forwarded"}${masq}`;
      return path;
    }
    case "drop":
      path.disposition = "drop";
      if (sendFails) path.clientError = "EPERM";
      path.reason = `DROPped by ${by}: the client sees no answer (timeout)`;
      return path;
    case "reject": {
      const effect = rejectEffect(v.rejectWith)!;
      const err = sendFails
        ? "EPERM"
        : st.proto === "tcp"
          ? effect.tcpError
          : st.proto === "udp"
            ? effect.udpError
            : undefined;
      path.disposition = "reject";
      path.rejectWith = effect.rejectWith;
      if (err !== undefined) path.clientError = err;
      path.reason = `REJECTed by ${by} with ${effect.rejectWith}`;
      return path;
    }
    case "unknown":
      path.disposition = "unknown";
      path.reason = v.reason;
      return path;
    case "return":
      path.disposition = "unknown";
      path.reason = "internal: RETURN escaped a built-in chain";
      return path;
    default: {
      const never: never = v;
      throw new TypeError(`Unknown verdict ${JSON.stringify(never)}`);
    }
  }
}
