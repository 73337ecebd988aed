/**
 * The iptables side of the path evaluator across nodes (src/hostnet/path-eval.ts): at every node's
 * FORWARD / INPUT / OUTPUT the evaluator asks, and this traces the packet through that node's
 * iptables-save with the iptables tracer, with the node's ipsets (`-m set`), whether the packet is
 * bridged as the node's links prove it (`-m physdev`, hostnet/bridged-between.ts) and, for the
 * reply direction, conntrack's ESTABLISHED state. Each answer's trace is kept, so the multi-hop
 * trace shows the very rule steps (file:line) that decided.
 */
import { bridgedBetween } from "../hostnet/bridged-between.ts";
import type { FilterQuery, FilterVerdict } from "../hostnet/path-types.ts";
import type { Evidence } from "../model/finding.ts";
import type { Trace } from "../model/trace.ts";
import type { HostPathInput } from "./host-path-input.ts";
import { ruleStepsOf } from "./rule-steps.ts";
import { sharedTraceIndex, type TraceIndex } from "./trace-index.ts";
import { type TraceOptions, tracePacket } from "./trace-packet.ts";

/** The bundle path of a node's dump. */
export function dumpFile(node: string): string {
  return `nodes/${node}/iptables-save.txt`;
}

/** A node's own IPv4 addresses from its `ip -j addr` (they decide local delivery in the tracer). */
export function hostLocalIps(input: HostPathInput, node: string): string[] {
  return (input.hosts.get(node)?.addr?.interfaces ?? []).flatMap((i) =>
    i.addresses.filter((a) => a.family === "inet").map((a) => a.local),
  );
}

/** One tracer index per node, built on first use (a node's dump is indexed once per question). */
export class NodeIndexes {
  readonly #input: HostPathInput;
  readonly #indexes = new Map<string, TraceIndex>();

  constructor(input: HostPathInput) {
    this.#input = input;
  }

  /** The node's index, or undefined when its dump was not read. */
  of(node: string): TraceIndex | undefined {
    const known = this.#indexes.get(node);
    if (known !== undefined) return known;
    const rs = this.#input.rulesets.get(node);
    if (rs === undefined) return undefined;
    const index = sharedTraceIndex(rs, dumpFile(node));
    this.#indexes.set(node, index);
    return index;
  }
}

function lastAction(t: Trace): string {
  const steps = ruleStepsOf(t);
  const last = steps[steps.length - 1];
  return last === undefined
    ? "no rule"
    : `${last.table}/${last.chain}: ${last.action.kind} (line ${last.evidence.line})`;
}

/**
 * What a node's evidence adds to its filter traces: its ipsets and the bridge facts of its links
 * (each left out when the bundle has no such file: those rules stay undecided). IPVS is the client
 * node's NAT (connection-answer.ts), not a filter verdict.
 */
export function nodeTraceOptions(
  input: HostPathInput,
  node: string,
): Pick<TraceOptions, "ipsets" | "bridgedBetween"> {
  const sets = input.ipsets.get(node);
  const host = input.hosts.get(node);
  return {
    ...(sets === undefined ? {} : { ipsets: sets }),
    ...(host === undefined ? {} : { bridgedBetween: bridgedBetween(host) }),
  };
}

/** The filter callback, and the trace behind each verdict (keyed by the verdict's evidence list). */
export interface HostFilter {
  readonly filter: (q: FilterQuery) => FilterVerdict;
  /** The tracer's path behind a filter step, by the step's `evidence` array. */
  readonly traces: WeakMap<readonly Evidence[], Trace>;
}

/**
 * The evaluator's filter over every node's rules. A node without a dump answers `unknown` (the path
 * stops undecided there); traced paths that disagree (random branches) answer `unknown` too.
 */
export function hostFilter(input: HostPathInput, indexes: NodeIndexes): HostFilter {
  const traces = new WeakMap<readonly Evidence[], Trace>();
  const filter = (q: FilterQuery): FilterVerdict => {
    const rs = input.rulesets.get(q.node);
    const index = indexes.of(q.node);
    if (rs === undefined || index === undefined)
      return { verdict: "unknown", action: `no ${dumpFile(q.node)}`, evidence: [] };
    const r = tracePacket(
      rs,
      {
        packet: q.packet,
        from: q.hook === "output" ? "host" : "pod",
        localIps: hostLocalIps(input, q.node),
        node: q.node,
        ...(q.inInterface === undefined ? {} : { inInterface: q.inInterface }),
        ...(q.outInterface === undefined ? {} : { outInterface: q.outInterface }),
        ...(q.reply ? { reply: true } : {}),
      },
      { index, ...nodeTraceOptions(input, q.node) },
    );
    const kinds = new Set(r.traces.map((t) => t.disposition.kind));
    const t = r.traces[0]!;
    const action = lastAction(t);
    if (kinds.size !== 1)
      return { verdict: "unknown", action: `paths disagree: ${[...kinds].join(", ")}`, evidence: [] };
    const evidence: Evidence[] = ruleStepsOf(t).map((s) => ({
      file: s.evidence.file,
      line: s.evidence.line,
      text: s.rule,
    }));
    traces.set(evidence, t);
    const d = t.disposition;
    switch (d.kind) {
      case "forwarded":
      case "delivered-locally":
      case "delivered":
      case "exits-cluster":
        return { verdict: "accept", action, evidence };
      case "dropped":
        return { verdict: "drop", action, evidence };
      case "rejected":
        return {
          verdict: "reject",
          action,
          ...(d.clientError === undefined ? {} : { clientError: d.clientError }),
          evidence,
        };
      case "undecided":
        return { verdict: "unknown", action: d.reason, evidence };
      case "no-route":
      case "neighbor-unreachable":
        return { verdict: "unknown", action: `${d.kind} in the iptables trace`, evidence };
      default: {
        const never: never = d;
        throw new TypeError(`Unknown disposition ${JSON.stringify(never)}`);
      }
    }
  };
  return { filter, traces };
}
