/**
 * The words for a trace's typed parts, shared by every renderer (text, diagnosis text, HTML): what a
 * step did, where a rule is, and what the client sees at the end of a path. Built from the model's
 * fields only; no renderer reads these words back.
 */
import type { Disposition, Flow, Step, StepAction, Trace } from "../model/trace.ts";
import { addressText } from "../trace/address-text.ts";
import { ERRNO_MESSAGES } from "../trace/reject-errno.ts";

/** What a rule's action did, as the trace prints it: `jump KUBE-SVC-X`, `DNAT to 10.42.1.9:80`, `policy ACCEPT`. */
export function actionText(a: StepAction): string {
  switch (a.kind) {
    case "jump":
      return `jump ${a.target}`;
    case "goto":
      return `goto ${a.target}`;
    case "return":
      return "RETURN";
    case "accept":
      return "ACCEPT";
    case "drop":
      return "DROP";
    case "reject":
      return `REJECT --reject-with ${a.rejectWith}`;
    case "mark":
      return `MARK --${a.op} ${a.value}`;
    case "connmark":
      return `CONNMARK ${a.options}`;
    case "notrack":
      return "NOTRACK: the connection is not tracked, nat is skipped";
    case "continue":
      return `${a.target} (continue)`;
    case "count":
      return "match (no target)";
    case "policy":
      return `policy ${a.policy}`;
    case "cannot-decide":
      return "cannot decide";
    case "dnat":
      return `DNAT to ${a.to}`;
    case "snat":
      return `SNAT to ${a.to}`;
    case "masquerade":
      return "MASQUERADE (source becomes the out-interface's address)";
    case "redirect":
      return `REDIRECT to ${a.to}`;
    case "ipvs":
      return `IPVS ${a.virtualServer} -> ${a.to} (${a.scheduler}: any of ${a.choices} real server${a.choices === 1 ? "" : "s"}, weight ${a.weight})`;
    default: {
      const never: never = a;
      throw new TypeError(`Unknown step action ${JSON.stringify(never)}`);
    }
  }
}

/** ` (random, p=0.5)` for a step a statistic match took, else "". */
export function probabilityText(q: number | undefined): string {
  return q === undefined ? "" : ` (random, p=${Number(q.toPrecision(6))})`;
}

/** What any step did, in one line (rule steps: their action; the others: what they decided). */
export function stepText(step: Step): string {
  switch (step.kind) {
    case "filter":
    case "transform":
      // IPVS's share is its scheduler's, by weight: not a random match.
      if (step.action.kind === "ipvs")
        return `${actionText(step.action)}${step.probability === undefined ? "" : `, share ${Number(step.probability.toPrecision(6))}`}`;
      return actionText(step.action) + probabilityText(step.probability);
    case "routing":
      return routingText(step);
    case "overlay": {
      const what =
        step.direction === "decapsulate"
          ? `${step.encapsulation} from ${addressText(step.outer.src)} decapsulated on ${step.device}`
          : `${step.encapsulation} on ${step.device} to ${addressText(step.outer.dst)}${step.toNode === undefined ? "" : ` (${step.toNode})`}`;
      return step.dropped === undefined ? what : `${what}: dropped (${step.dropped})`;
    }
    case "neighbor":
      return `ARP for ${step.ip}${step.device === undefined ? "" : ` on ${step.device}`}: ${NEIGHBOR_WORDS[step.state]} (${step.reason})`;
    case "deliver":
      if (step.to === "node") return "delivered to the node itself";
      return step.pod === undefined
        ? `bridged on ${step.device ?? "the bridge"} to an address no pod has`
        : `delivered to pod ${step.pod}`;
    case "conntrack":
      return `conntrack entry: ${step.entry}`;
    default: {
      const never: never = step;
      throw new TypeError(`Unknown step ${JSON.stringify(never)}`);
    }
  }
}

const NEIGHBOR_WORDS: Readonly<Record<Extract<Step, { kind: "neighbor" }>["state"], string>> = {
  answers: "answered",
  "no-answer": "nothing answers",
  "not-needed": "not needed",
  undecided: "cannot decide",
};

function routingText(step: Extract<Step, { kind: "routing" }>): string {
  const via = step.outInterface === undefined ? "" : ` via ${step.outInterface}`;
  switch (step.decision) {
    case "local":
      return `route: for the node itself (${addressText(step.dst)})`;
    case "forward":
      return `route: forwarded (${addressText(step.dst)}${via})`;
    case "no-route":
      return `route: no route to ${addressText(step.dst)} (${step.reason ?? "no route"})`;
    case "drop":
      return `route: dropped (${step.reason ?? "no reason given"})`;
    case "undecided":
      return `route: cannot decide (${step.reason ?? "no reason given"})`;
    default: {
      const never: never = step.decision;
      throw new TypeError(`Unknown routing decision ${JSON.stringify(never)}`);
    }
  }
}

/** `line 31`, or `the filter FORWARD policy (line 3)`: the rule (or route) that dropped or rejected. */
export function byText(d: Extract<Disposition, { kind: "dropped" | "rejected" }>): string {
  const by = d.by;
  if (by.kind === "routing") return `routing (${by.reason ?? "a route"})`;
  if (by.kind === "overlay") return `the overlay on ${by.device} (${by.dropped ?? "dropped"})`;
  // IPVS (a virtual server without a real server to schedule to) is named with its ipvsadm line.
  if (by.backend === "ipvs") return `IPVS ${by.chain} (${by.evidence.file} line ${by.evidence.line})`;
  // An nft rule is named with its table and handle: it is not in the iptables dump the heading names.
  if (by.backend === "nft") {
    const handle = by.evidence.handle === undefined ? "" : ` handle ${by.evidence.handle}`;
    return by.action.kind === "policy"
      ? `the ${by.family ?? "ip"} ${by.table} ${by.chain} policy (${by.evidence.file} line ${by.evidence.line})`
      : `${by.family ?? "ip"} ${by.table} ${by.chain} (${by.evidence.file} line ${by.evidence.line}${handle})`;
  }
  return by.action.kind === "policy"
    ? `the ${by.table} ${by.chain} policy (line ${by.evidence.line})`
    : `line ${by.evidence.line}`;
}

/** `Connection refused (ECONNREFUSED)`. */
export function errnoText(err: string): string {
  return `${ERRNO_MESSAGES[err] ?? err} (${err})`;
}

function endpoint(ip: string, port: number | undefined): string {
  return port === undefined ? ip : `${ip}:${port}`;
}

/** The path's outcome in words, as a person would say it. */
export function describeOutcome(trace: Trace, flow: Flow): string {
  const d = trace.disposition;
  const dst = addressText(trace.headers.dst);
  const rewritten = dst !== endpoint(flow.dstIp, flow.dstPort);
  const masq = trace.headers.src.kind === "out-interface" ? ", source masqueraded" : "";
  switch (d.kind) {
    case "forwarded":
      return rewritten ? `DNAT to ${dst}, then forwarded${masq}` : `forwarded to ${dst} unchanged${masq}`;
    case "delivered-locally":
      return rewritten
        ? `DNAT to ${dst}, then delivered to the node itself`
        : `delivered to the node itself (${dst})`;
    case "delivered":
      return `${rewritten ? `DNAT to ${dst}, then ` : ""}delivered to ${d.pod === undefined ? `the pod of ${dst}` : `pod ${d.pod}`}${masq}`;
    case "dropped":
      return d.clientError === undefined
        ? `DROPped by ${byText(d)}: the client sees no answer and times out`
        : `DROPped by ${byText(d)}: the client's send fails with ${d.clientError} (${ERRNO_MESSAGES[d.clientError] ?? d.clientError})`;
    case "rejected": {
      const sees =
        d.clientError === undefined
          ? "the client sees no error and times out"
          : `the client sees ${errnoText(d.clientError)}`;
      return `REJECTed by ${byText(d)} with ${d.rejectWith}: ${sees}`;
    }
    case "no-route":
      return `no route to ${addressText(d.dst)}: ${d.clientError === undefined ? "the client times out" : `the client sees ${errnoText(d.clientError)}`}`;
    case "neighbor-unreachable":
      return `${rewritten ? `DNAT to ${dst}, then ` : ""}forwarded, but nothing answers ARP for ${d.ip}${d.device === undefined ? "" : ` on ${d.device}`}: ${d.clientError === undefined ? "the client sees no answer and times out" : `the client sees ${errnoText(d.clientError)}`}`;
    case "exits-cluster":
      return `leaves the cluster to ${dst}${d.outInterface === undefined ? "" : ` via ${d.outInterface}`}${masq}`;
    case "undecided":
      return `undecided: ${d.reason}`;
    default: {
      const never: never = d;
      throw new TypeError(`Unknown disposition ${JSON.stringify(never)}`);
    }
  }
}

/** The disposition's short name for one-line summaries (`forward`, `local`, `drop`, ...). */
export function dispositionWord(d: Disposition): string {
  switch (d.kind) {
    case "forwarded":
      return "forward";
    case "delivered-locally":
      return "local";
    case "delivered":
      return "delivered";
    case "dropped":
      return "drop";
    case "rejected":
      return "reject";
    case "no-route":
    case "neighbor-unreachable":
    case "exits-cluster":
    case "undecided":
      return d.kind;
    default: {
      const never: never = d;
      throw new TypeError(`Unknown disposition ${JSON.stringify(never)}`);
    }
  }
}

/** The errno the client sees at the end of a path, when the disposition says. */
export function clientErrorOf(d: Disposition): string | undefined {
  switch (d.kind) {
    case "dropped":
    case "rejected":
    case "no-route":
    case "neighbor-unreachable":
      return d.clientError;
    default:
      return undefined;
  }
}
