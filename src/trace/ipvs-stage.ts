/**
 * IPVS in the tracer (kube-proxy's IPVS mode), from the node's `ipvsadm -Sn` (TraceOptions.ipvs).
 * Where the kernel's IPVS sits (net/netfilter/ipvs/ip_vs_core.c, ip_vs_ops): a packet for the node
 * itself meets it in INPUT after the filter table (ip_vs_remote_request4, priority
 * NF_IP_PRI_NAT_SRC - 1), a packet of the node's own in OUTPUT after nat (ip_vs_local_request4,
 * NF_IP_PRI_NAT_DST + 2). A packet whose protocol, destination address and port are a virtual
 * service's (or whose mark is a fwmark service's) is scheduled to one of its real servers of weight
 * > 0 (ip_vs_rr.c and the others skip weight 0), one branch each: `rr` gives each the same share,
 * the weighted schedulers (`wrr`, `wlc`, ...) a share by weight, the others (`lc`, `sh`, ...) depend
 * on the connections seen and are shown the same way, as "any of" the real servers. With
 * masquerading (`-m`, kube-proxy's only method) the destination becomes the real server's
 * (ip_vs_nat_xmit); the packet then leaves through OUTPUT (nat skipped: the connection's NAT is
 * set) and POSTROUTING (ip_vs_nat_send_or_cont). A virtual service without a real server to choose
 * answers ICMP port unreachable and drops the packet (ip_vs_leave): the client sees ECONNREFUSED.
 * This machine's kernel has no IPVS: the semantics are from the kernel's source and kube-proxy's
 * pkg/proxy/ipvs/proxier.go, the tests' expectations hand-written (docs/network-policy.md).
 */
import { type IpvsTable, keyOf, type RealServer, type VirtualService } from "../ipvs/ipvs-model.ts";
import type { Address } from "../model/flow.ts";
import { type Ruleset, ruleAccess } from "../model/ruleset.ts";
import type { FilterAction, FilterStep, TransformStep } from "../model/trace-step.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { addressText } from "./address-text.ts";
import { undecided } from "./match-test.ts";
import type { IpvsNotCollected } from "./trace-request.ts";
import { ACCEPT, type Outcome, outcome, type Walk } from "./walk-context.ts";
import { cloneState, type WalkState } from "./walk-state.ts";

/** The virtual service the packet hits: a fwmark service of its mark first, then protocol, address and port. */
export function virtualServiceOf(table: IpvsTable, st: WalkState): VirtualService | undefined {
  if (st.mark !== 0) {
    const fw = table.services.find((s) => s.protocol === "fwmark" && s.fwmark === st.mark);
    if (fw !== undefined) return fw;
  }
  return table.services.find(
    (s) =>
      s.protocol === st.proto &&
      s.port === st.dport &&
      s.address !== undefined &&
      parseIpv4(s.address) === st.dst,
  );
}

const CLUSTER_IP_SET = /--match-set KUBE-(6-)?CLUSTER-IP dst,dst/;

/**
 * An IPVS-mode node (kube-proxy's glue matches the KUBE-CLUSTER-IP set in nat KUBE-SERVICES,
 * kube-proxy/ipvs/ipvs-mode.ts) whose `ipvsadm.txt` is not in the bundle, or undefined. Reads only
 * the KUBE-SERVICES chain.
 */
export function ipvsNotCollected(rs: Ruleset, file: string): IpvsNotCollected | undefined {
  const chain = rs.tables.get("nat")?.chains.get("KUBE-SERVICES");
  if (chain === undefined) return undefined;
  const texts = chain.ruleTexts?.() ?? chain.rules.map((r) => r.text);
  const i = texts.findIndex((t) => CLUSTER_IP_SET.test(t));
  if (i < 0) return undefined;
  return {
    missing: file.replace(/[^/]*$/, "ipvsadm.txt"),
    mode: `${file}:${ruleAccess(chain).lines[i]} matches the KUBE-CLUSTER-IP ipset`,
  };
}

/** Whether `ip` (a number) is the address of any virtual service of the table. */
export function isVirtualAddress(table: IpvsTable, ip: number): boolean {
  return table.services.some((s) => s.address !== undefined && parseIpv4(s.address) === ip);
}

/** Each real server's share of new connections: equal for `rr`, by weight otherwise. */
function shares(vs: VirtualService, chosen: readonly RealServer[]): number[] {
  if (vs.scheduler === "rr") return chosen.map(() => 1 / chosen.length);
  const sum = chosen.reduce((n, r) => n + r.weight, 0);
  return chosen.map((r) => r.weight / sum);
}

/** A filter step of the IPVS table (a virtual service's or a real server's line). */
function ipvsFilterStep(
  table: IpvsTable,
  vs: VirtualService,
  at: { readonly line: number; readonly text: string; readonly action: FilterAction },
): FilterStep {
  // Every field in the order of the tracer's own filter steps (trace-steps.ts ruleFilterStep).
  return {
    kind: "filter",
    backend: "ipvs",
    table: "ipvs",
    chain: keyOf(vs),
    evidence: { file: table.file, line: at.line },
    rule: at.text,
    action: at.action,
    probability: undefined,
  };
}

/** The step of a virtual service that has no real server to schedule to: ICMP port unreachable. */
function noServerStep(table: IpvsTable, vs: VirtualService): FilterStep {
  return ipvsFilterStep(table, vs, {
    line: vs.line,
    text: vs.text,
    action: { kind: "reject", rejectWith: "icmp-port-unreachable" },
  });
}

/** One scheduled branch: the destination becomes the real server's (masquerading). */
function scheduled(
  table: IpvsTable,
  vs: VirtualService,
  at: { readonly l: Outcome; readonly rs: RealServer; readonly share: number; readonly choices: number },
): Outcome {
  const { l, rs, share } = at;
  const st = cloneState(l.st);
  const port = rs.port === 0 ? st.dport : rs.port;
  const before = st.hdr;
  const dst: Address = port < 0 ? { kind: "exact", ip: rs.address } : { kind: "exact", ip: rs.address, port };
  st.dst = parseIpv4(rs.address)!;
  st.dport = port;
  st.dnat = true;
  st.hdr = { protocol: before.protocol, src: before.src, dst };
  const step: TransformStep = {
    kind: "transform",
    backend: "ipvs",
    table: "ipvs",
    chain: keyOf(vs),
    evidence: { file: table.file, line: rs.line },
    rule: rs.text,
    action: {
      kind: "ipvs",
      to: port < 0 ? rs.address : `${rs.address}:${port}`,
      virtualServer: keyOf(vs),
      scheduler: vs.scheduler,
      weight: rs.weight,
      choices: at.choices,
    },
    probability: share < 1 ? share : undefined,
    before,
    after: st.hdr,
  };
  return outcome(l.p * share, st, { s: step, prev: l.trail }, ACCEPT);
}

/** A branch the tracer does not follow (a real server reached by direct routing or tunnelling). */
function unfollowed(
  table: IpvsTable,
  vs: VirtualService,
  l: Outcome,
  rs: RealServer,
  share: number,
): Outcome {
  const reason = `IPVS ${keyOf(vs)} sends to ${rs.address}:${rs.port} by ${rs.forward} forwarding (${table.file}:${rs.line}), which is not traced (kube-proxy masquerades)`;
  const step = ipvsFilterStep(table, vs, {
    line: rs.line,
    text: rs.text,
    action: { kind: "cannot-decide", reason, needs: "manual-check" },
  });
  const o = outcome(l.p * share, cloneState(l.st), { s: step, prev: l.trail }, ACCEPT);
  o.v = { k: "unknown", why: undecided(reason, "manual-check") };
  o.by = step;
  return o;
}

/** Without the IPVS table of an IPVS-mode node, a packet for the node itself ends undecided. */
function notCollected(
  walk: Walk,
  given: IpvsNotCollected,
  live: readonly Outcome[],
  out: { readonly done: Outcome[]; readonly passed: Outcome[] },
): void {
  for (const l of live) {
    if (walk.ctx.reply === true) {
      out.passed.push(l);
      continue;
    }
    const to = addressText(l.st.hdr.dst);
    l.v = {
      k: "unknown",
      why: undecided(
        `the node runs kube-proxy in IPVS mode (${given.mode}): whether IPVS takes the packet for ${to}, and to which real server, needs the node's ipvsadm -Sn output (${given.missing}), which was not given`,
        "ipvs-table",
      ),
    };
    out.done.push(l);
  }
}

/**
 * IPVS on the paths that reach it: `scheduled` (one path per real server, rewritten), `passed` (no
 * virtual service: the packet goes on unchanged), and the paths IPVS ends go to `done`.
 */
export function ipvsPaths(
  walk: Walk,
  live: readonly Outcome[],
  done: Outcome[],
): { scheduled: Outcome[]; passed: Outcome[] } {
  const given = walk.options.ipvs;
  const out = { scheduled: [] as Outcome[], passed: [] as Outcome[] };
  if (given !== undefined && "missing" in given) {
    notCollected(walk, given, live, { done, passed: out.passed });
    return out;
  }
  const table = given;
  for (const l of live) {
    // A reply belongs to a connection IPVS already scheduled: its un-NAT is conntrack's and IPVS's.
    const vs = table === undefined || walk.ctx.reply === true ? undefined : virtualServiceOf(table, l.st);
    if (vs === undefined) {
      out.passed.push(l);
      continue;
    }
    const chosen = vs.realServers.filter((r) => r.weight > 0);
    if (chosen.length === 0) {
      const step = noServerStep(table!, vs);
      done.push(
        outcome(
          l.p,
          l.st,
          { s: step, prev: l.trail },
          { k: "reject", rejectWith: "icmp-port-unreachable" },
          step,
        ),
      );
      continue;
    }
    const share = shares(vs, chosen);
    walk.paths += chosen.length - 1;
    chosen.forEach((rs, i) => {
      if (rs.forward === "masq")
        out.scheduled.push(scheduled(table!, vs, { l, rs, share: share[i]!, choices: chosen.length }));
      else done.push(unfollowed(table!, vs, l, rs, share[i]!));
    });
  }
  return out;
}
