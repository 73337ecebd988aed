/**
 * One netfilter hook for an IPv4 packet: every base chain of every table registered there (families
 * ip and inet; netdev for ingress/egress on the packet's device), in priority order, with nftables
 * semantics: `accept` ends only that base chain and the next one still sees the packet; `drop` and
 * `reject` are final.
 *
 * Kernel facts this follows (net/netfilter/core.c, nf_nat_core.c, nf_conntrack_proto.c):
 * - NAT chains are not hooked on their own: the NAT core is hooked at -100 (prerouting, output) and
 *   +100 (input, postrouting) and calls the NAT chains of that hook in their priority order, only for
 *   a connection's first packet, and stops at the first chain that sets up a binding.
 * - conntrack runs at -200 at prerouting and output: chains before it see no conntrack entry
 *   (`ct state` reads "invalid", other ct keys do not match), and only they can `notrack`.
 * - Equal priorities run in reverse registration order (nf_hook_entries_grow inserts a new hook before
 *   existing ones of the same priority). The dump does not say when a chain was registered; table and
 *   chain handles are used as a stand-in and every such tie is reported as an assumption.
 */
import { type ChainContext, type ChainPath, chainEvidence, evalBaseChain } from "./eval-chain.ts";
import { bindNat } from "./eval-nat.ts";
import { cloneState, type PacketState } from "./nft-packet.ts";
import type { NftChain, NftHook, NftRuleset, NftTable } from "./nft-ruleset.ts";

/** A base chain at a hook, or the NAT core with its chains. */
export interface HookEntry {
  /** Where it runs: the chain's priority, or the NAT core's for NAT chains. */
  readonly priority: number;
  readonly chains: readonly { readonly table: NftTable; readonly chain: NftChain }[];
  readonly nat: boolean;
}

export interface HookPlan {
  readonly hook: NftHook;
  readonly entries: readonly HookEntry[];
  /** Orderings the dump cannot prove (equal priorities). */
  readonly assumptions: readonly string[];
}

export type HookOutcome = "accept" | "drop" | "reject" | "undecided";

export interface HookPath {
  readonly state: PacketState;
  readonly outcome: HookOutcome;
  readonly reject?: { readonly type: string; readonly code: string };
  readonly reason?: string;
}

export interface HookOptions {
  /**
   * Whether conntrack still has to see the packet at this hook (`before`: prerouting of a packet
   * from the wire, output) or already has (`attached`: every other hook, loopback prerouting).
   */
  readonly conntrack?: "before" | "attached";
}

const NAT_CORE: Readonly<Partial<Record<NftHook, number>>> = {
  prerouting: -100,
  output: -100,
  input: 100,
  postrouting: 100,
};
const CONNTRACK = -200;

/** Newest registration first: higher table handle, then higher chain handle (an approximation). */
function newestFirst(
  a: { table: NftTable; chain: NftChain },
  b: { table: NftTable; chain: NftChain },
): number {
  return b.table.handle - a.table.handle || b.chain.handle - a.chain.handle;
}

/** Equal priorities: newest first; the NAT core without chains of its own counts as oldest. */
function tieOrder(a: HookEntry, b: HookEntry): number {
  const ca = a.chains[0];
  const cb = b.chains[0];
  if (ca === undefined || cb === undefined) return ca === undefined ? 1 : -1;
  return newestFirst(ca, cb);
}

function hasNatChain(ruleset: NftRuleset): boolean {
  return ruleset.tables.some(
    (t) =>
      !t.dormant &&
      (t.family === "ip" || t.family === "inet") &&
      [...t.chains.values()].some((c) => c.base?.type === "nat"),
  );
}

function describe(c: { table: NftTable; chain: NftChain }): string {
  return `${c.table.family} ${c.table.name} ${c.chain.name}`;
}

/**
 * How chains of equal priority are ordered: `newest-first` (the kernel's rule, with handles as a
 * stand-in for registration order) or `oldest-first` (the other extreme, to see whether a tie
 * changes the outcome: trace/trace-host.ts).
 */
export type TieOrder = "newest-first" | "oldest-first";

/** The base chains an IPv4 packet meets at `hook` (on input device `iif` for ingress), in order. */
export function planHook(
  ruleset: NftRuleset,
  hook: NftHook,
  iif?: string,
  order: TieOrder = "newest-first",
): HookPlan {
  const sign = order === "oldest-first" ? -1 : 1;
  const found: { table: NftTable; chain: NftChain }[] = [];
  for (const table of ruleset.tables) {
    if (table.dormant) continue;
    const families = hook === "ingress" || hook === "egress" ? ["netdev", "inet"] : ["ip", "inet"];
    if (!families.includes(table.family)) continue;
    for (const chain of table.chains.values()) {
      const b = chain.base;
      if (b === undefined || b.hook !== hook) continue;
      if (
        (hook === "ingress" || hook === "egress") &&
        b.devices !== undefined &&
        (iif === undefined || !b.devices.includes(iif))
      )
        continue;
      found.push({ table, chain });
    }
  }
  const natPrio = NAT_CORE[hook];
  const nat = found.filter((c) => c.chain.base!.type === "nat" && natPrio !== undefined);
  const plain = found.filter((c) => !nat.includes(c));
  const entries: HookEntry[] = plain.map((c) => ({
    priority: c.chain.base!.priority,
    chains: [c],
    nat: false,
  }));
  const assumptions: string[] = [];
  // The NAT core hooks all four NAT hooks as soon as one IPv4 NAT chain exists anywhere, and makes
  // a null binding where no NAT chain does (nf_nat_register_fn).
  if (natPrio !== undefined && (nat.length > 0 || hasNatChain(ruleset))) {
    nat.sort((a, b) => a.chain.base!.priority - b.chain.base!.priority || sign * newestFirst(a, b));
    entries.push({ priority: natPrio, chains: nat, nat: true });
  }
  entries.sort((a, b) => a.priority - b.priority || sign * tieOrder(a, b));
  const ties = (list: readonly { p: number; name: string }[], what: string) => {
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.p === list[i - 1]!.p) {
        assumptions.push(
          `${what} ${list[i - 1]!.name} and ${list[i]!.name} share priority ${list[i]!.p} at ${hook}: assumed the later-created runs first`,
        );
      }
    }
  };
  ties(
    entries.map((e) => ({
      p: e.priority,
      name: e.nat ? "the NAT core" : describe(e.chains[0]!),
    })),
    "base chains",
  );
  ties(
    nat.map((c) => ({ p: c.chain.base!.priority, name: describe(c) })),
    "NAT chains",
  );
  return { hook, entries, assumptions };
}

interface Live {
  st: PacketState;
}

function decided(path: ChainPath): HookPath | undefined {
  const e = path.end;
  switch (e.kind) {
    case "accept":
      return undefined;
    case "drop":
      return { state: path.state, outcome: "drop" };
    case "reject":
      return { state: path.state, outcome: "reject", reject: { type: e.type, code: e.code } };
    case "undecided":
      return { state: path.state, outcome: "undecided", reason: e.reason };
    default: {
      const never: never = e;
      throw new TypeError(`Unknown chain end ${JSON.stringify(never)}`);
    }
  }
}

/** Runs one ingress/egress chain whose devices the dump did not give. */
function unknownDevice(
  c: { table: NftTable; chain: NftChain },
  st: PacketState,
  ctx: ChainContext,
): HookPath | undefined {
  if (c.chain.rules.length === 0 && c.chain.base!.policy === "accept") return undefined;
  const n = cloneState(st);
  n.steps.push({
    family: c.chain.family,
    table: c.chain.table,
    chain: c.chain.name,
    kind: "policy",
    action: "cannot evaluate: the chain's devices are not in the JSON dump (give nft -a list ruleset too)",
    acts: [{ kind: "cannot-decide", reason: "devices of an ingress chain unknown" }],
    evidence: chainEvidence(c.chain, ctx.files),
  });
  return { state: n, outcome: "undecided", reason: `devices of ${describe(c)} are unknown` };
}

function runNat(entry: HookEntry, hook: NftHook, lives: Live[], ctx: ChainContext, done: HookPath[]): Live[] {
  const src = hook === "postrouting" || hook === "input";
  const out: Live[] = [];
  for (const live of lives) {
    const st = live.st;
    // NAT chains see only a tracked connection's first packet whose binding is not yet set up.
    if (st.ct !== "tracked" || (src ? st.natSrc : st.natDst)) {
      out.push(live);
      continue;
    }
    let pending: PacketState[] = [st];
    for (const c of entry.chains) {
      const next: PacketState[] = [];
      for (const p of pending) {
        for (const path of evalBaseChain(c.table, c.chain, p, ctx)) {
          const d = decided(path);
          if (d !== undefined) done.push(d);
          else if (src ? path.state.natSrc : path.state.natDst) out.push({ st: path.state });
          else next.push(path.state);
        }
      }
      pending = next;
    }
    // No NAT chain made a binding: the kernel sets up a null binding, NAT chains are done for it.
    for (const p of pending) {
      bindNat(p, src ? "src" : "dst", false);
      out.push({ st: p });
    }
  }
  return out;
}

/** Evaluates every base chain at `plan.hook` on `st`; `accept` paths go on to the next hook. */
export function evalHook(
  plan: HookPlan,
  st: PacketState,
  ctx: ChainContext,
  options: HookOptions = {},
): HookPath[] {
  const done: HookPath[] = [];
  const start = cloneState(st);
  const tracking = options.conntrack === "before" && (plan.hook === "prerouting" || plan.hook === "output");
  if (tracking && start.ct === "tracked") start.ct = "none";
  let lives: Live[] = [{ st: start }];
  for (const entry of plan.entries) {
    if (tracking && entry.priority >= CONNTRACK)
      for (const l of lives) if (l.st.ct === "none") l.st.ct = "tracked";
    if (entry.nat) {
      lives = runNat(entry, plan.hook, lives, ctx, done);
      continue;
    }
    const c = entry.chains[0]!;
    const next: Live[] = [];
    for (const live of lives) {
      if ((plan.hook === "ingress" || plan.hook === "egress") && c.chain.base!.devices === undefined) {
        const d = unknownDevice(c, live.st, ctx);
        if (d === undefined) next.push(live);
        else done.push(d);
        continue;
      }
      for (const path of evalBaseChain(c.table, c.chain, live.st, ctx)) {
        const d = decided(path);
        if (d === undefined) next.push({ st: path.state });
        else done.push(d);
      }
    }
    lives = next;
  }
  for (const l of lives) {
    if (tracking && l.st.ct === "none") l.st.ct = "tracked";
    done.push({ state: l.st, outcome: "accept" });
  }
  return done;
}
