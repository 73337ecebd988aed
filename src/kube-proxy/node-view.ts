/**
 * Lookup tables over one node's {@linkcode KubeProxyIndex}, built once per node: the entry rules
 * of nat KUBE-SERVICES by destination, KUBE-NODEPORTS by port, the filter REJECT/DROP rules, and
 * walks from an entry to the DNATs it can reach, for the ClusterIP path (every chain) and for
 * the external path (without the pod and node short-circuits of KUBE-XLB-/KUBE-EXT- chains).
 */
import type { ExpectedServicePort } from "./expected-state.ts";
import type { IndexedRule, KubeProxyIndex } from "./kube-proxy-index.ts";

/** A DNAT the walk reached, with the jump into its KUBE-SEP- chain. */
export interface ReachedDnat {
  readonly rule: IndexedRule;
  readonly jump?: IndexedRule;
}

const SERVICE_CHAIN = /^KUBE-(SEP|SVC|SVL|XLB|EXT|FW)-/;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** `ip:port/proto` of a rule's destination. */
function destKey(ip: string, port: number, protocol: string | undefined): string {
  return `${ip}:${port}/${protocol ?? "tcp"}`;
}

/** Options of {@linkcode NodeView}. */
export interface NodeViewOptions {
  /**
   * Only a few service ports will be looked up (a diagnose question): their entry rules are found
   * one destination at a time when the index can (`natRulesTo`), instead of indexing all of nat
   * KUBE-SERVICES, tens of thousands of rules on a large node.
   */
  readonly few?: boolean;
}

export class NodeView {
  /** nat KUBE-SERVICES rules by `ip:port/proto` (several Services can share an IP and port): all of them, or those looked up so far. */
  readonly #entries = new Map<string, IndexedRule[]>();
  /** True when {@linkcode NodeView.#entries} holds every entry rule. */
  readonly #allEntries: boolean;
  /** filter REJECT/DROP by `ip:port/proto`, or `node:port/proto` for NodePorts. */
  readonly rejects = new Map<string, IndexedRule>();
  /** nat KUBE-NODEPORTS jumps by `port/proto` (v1.31+ adds a localhost twin of each). */
  readonly nodePorts = new Map<string, IndexedRule[]>();

  constructor(
    readonly index: KubeProxyIndex,
    options: NodeViewOptions = {},
  ) {
    this.#allEntries = options.few !== true || index.natRulesTo === undefined;
    if (this.#allEntries) {
      for (const r of index.nat.get("KUBE-SERVICES") ?? []) {
        if (r.destination === undefined || r.dport === undefined) continue;
        push(this.#entries, destKey(r.destination, r.dport, r.protocol), r);
      }
    }
    for (const r of index.nat.get("KUBE-NODEPORTS") ?? []) {
      if (r.dport === undefined || r.target === undefined || !SERVICE_CHAIN.test(r.target)) continue;
      push(this.nodePorts, `${r.dport}/${r.protocol ?? "tcp"}`, r);
    }
    for (const r of index.filter) {
      if (r.target !== "REJECT" && r.target !== "DROP") continue;
      const key =
        r.destination === undefined
          ? `node:${r.dport}/${r.protocol ?? "tcp"}`
          : destKey(r.destination, r.dport ?? 0, r.protocol);
      if (!this.rejects.has(key)) this.rejects.set(key, r);
    }
  }

  declared(chain: string): boolean {
    return this.index.chains.get("nat")?.has(chain) ?? false;
  }

  /**
   * The entry rule for `ip:port` of `sp`: the rule for that destination that jumps to one of the
   * service port's own chains (current or pre-1.19 names; the hash is recomputed, comments are
   * not trusted). A rule for the same destination into another chain is not this port's entry
   * (see {@linkcode foreignEntries}).
   */
  entryFor(sp: ExpectedServicePort, ip: string, port: number): IndexedRule | undefined {
    return this.#entriesTo(ip, port, sp.protocol).find((r) => ownsChain(sp, r.target));
  }

  /** Rules for `ip:port` that jump to chains that are not `sp`'s (a renamed port, another Service). */
  foreignEntries(sp: ExpectedServicePort, ip: string, port: number): IndexedRule[] {
    return this.#entriesTo(ip, port, sp.protocol).filter((r) => !ownsChain(sp, r.target));
  }

  /** The nat KUBE-SERVICES rules for `ip:port/protocol`, in order. */
  #entriesTo(ip: string, port: number, protocol: string): readonly IndexedRule[] {
    const key = destKey(ip, port, protocol);
    let found = this.#entries.get(key);
    if (found === undefined && !this.#allEntries) {
      found = (this.index.natRulesTo?.("KUBE-SERVICES", ip) ?? []).filter(
        (r) =>
          r.destination !== undefined &&
          r.dport !== undefined &&
          destKey(r.destination, r.dport, r.protocol) === key,
      );
      this.#entries.set(key, found);
    }
    return found ?? [];
  }

  /** The KUBE-NODEPORTS rules of `sp`'s NodePort that jump to its own chains. */
  nodePortRules(sp: ExpectedServicePort): IndexedRule[] {
    if (sp.nodePort === undefined) return [];
    return (this.nodePorts.get(`${sp.nodePort}/${sp.protocol}`) ?? []).filter((r) => ownsChain(sp, r.target));
  }

  /**
   * Every DNAT reachable from `chain`. With `external`, jumps that match on the packet's source
   * inside KUBE-XLB-/KUBE-EXT- chains (pods and the node itself go to the Cluster chain) are not
   * taken: what is left is what an outside client gets. Results are shared per chain (a KUBE-SVC-
   * chain is reached from its ClusterIP, its NodePort and its external IPs alike): do not modify.
   */
  dnatFrom(chain: string, options: { external?: boolean } = {}): ReadonlyMap<string, ReachedDnat> {
    return this.#reach(chain, options.external === true, new Set());
  }

  /** Results per chain: `inside` for every chain walked alike from anywhere, `outside` for the external walk of XLB/EXT/FW chains. */
  readonly #inside = new Map<string, ReadonlyMap<string, ReachedDnat>>();
  readonly #outside = new Map<string, ReadonlyMap<string, ReachedDnat>>();

  #reach(chain: string, external: boolean, active: Set<string>): ReadonlyMap<string, ReachedDnat> {
    // Only the external-policy chains (and KUBE-FW-, which leads to them) walk differently from outside.
    const fw = chain.startsWith("KUBE-FW-");
    const shortCircuits = external && (chain.startsWith("KUBE-XLB-") || chain.startsWith("KUBE-EXT-"));
    const memo = shortCircuits || (external && fw) ? this.#outside : this.#inside;
    const cached = memo.get(chain);
    if (cached !== undefined) return cached;
    if (active.has(chain)) return EMPTY; // a loop: kube-proxy never writes one, a hand-edited dump might
    active.add(chain);
    let own: Map<string, ReachedDnat> | undefined;
    const subs: ReadonlyMap<string, ReachedDnat>[] = [];
    for (const r of this.index.nat.get(chain) ?? []) {
      if (r.toDestination !== undefined) {
        own ??= new Map();
        if (!own.has(r.toDestination)) own.set(r.toDestination, { rule: r });
        continue;
      }
      const t = r.target;
      if (t === undefined || !SERVICE_CHAIN.test(t)) continue;
      if (shortCircuits && r.sourceMatch === true) continue;
      if (t.startsWith("KUBE-SEP-")) {
        for (const d of this.index.nat.get(t) ?? []) {
          if (d.toDestination === undefined) continue;
          own ??= new Map();
          if (!own.has(d.toDestination)) own.set(d.toDestination, { rule: d, jump: r });
        }
      } else subs.push(this.#reach(t, external, active));
    }
    active.delete(chain);
    // The common chain (EXT → SVC, FW → SVC) only forwards: share the sub-result instead of copying it.
    let out: ReadonlyMap<string, ReachedDnat>;
    if (own === undefined && subs.length === 1) out = subs[0]!;
    else {
      const merged = own ?? new Map<string, ReachedDnat>();
      for (const sub of subs) for (const [k, v] of sub) if (!merged.has(k)) merged.set(k, v);
      out = merged;
    }
    memo.set(chain, out);
    return out;
  }
}

const EMPTY: ReadonlyMap<string, ReachedDnat> = new Map();

/** Whether `chain` is one of the service port's own chains (any kind, either naming). */
export function ownsChain(sp: ExpectedServicePort, chain: string | undefined): boolean {
  if (chain === undefined) return false;
  for (const c of Object.values(sp.chains)) if (c === chain) return true;
  for (const c of Object.values(sp.legacyChains)) if (c === chain) return true;
  return false;
}
