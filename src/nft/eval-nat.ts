/**
 * NAT statements (`dnat`, `snat`, `masquerade`, `redirect`) on one packet state. In nftables they
 * are terminal: the kernel sets the chain's verdict to NF_ACCEPT once the binding is made
 * (nft_nat_eval). The binding is per connection, so later NAT chains of the same hook do not run.
 */
import { formatIpv4, parseIpv4 } from "../net/ipv4.ts";
import { type ExprContext, evalExpr } from "./eval-expr.ts";
import type { Did } from "./eval-rule.ts";
import {
  CT_DST_NAT_DONE,
  CT_SRC_NAT_DONE,
  CT_STATUS,
  type NftDatatype,
  type Scalar,
} from "./nft-datatypes.ts";
import { cloneState, type NftAct, type PacketState } from "./nft-packet.ts";
import type { NftExpr, NftStmt } from "./nft-ruleset.ts";

type Nat = NftStmt & { kind: "nat" };

/** What the evaluator needs to know about the node for masquerade and redirect. */
export interface NatContext extends ExprContext {
  /** IPv4 addresses of an interface: redirect uses the first (none: the kernel drops the packet). */
  readonly interfaceAddresses?: (ifname: string) => readonly string[] | undefined;
  /** The source address masquerade picks for packets leaving by `oif`. */
  readonly masqueradeAddress?: (oif: string) => string | undefined;
}

export type NatResult =
  /** `missed`: a map lookup for the target missed, the rule does not match on that branch. */
  | {
      readonly kind: "ok";
      readonly branches: readonly { st: PacketState; actions: readonly Did[]; missed?: boolean }[];
    }
  | { readonly kind: "drop"; readonly action: string }
  | { readonly kind: "unknown"; readonly reason: string };

function constant(e: NftExpr | undefined, dt: NftDatatype): Scalar | undefined | "unknown" {
  if (e === undefined) return undefined;
  if (e.kind !== "immediate") return "unknown";
  if (dt === "ipv4_addr") return typeof e.value === "string" ? (parseIpv4(e.value) ?? "unknown") : "unknown";
  return typeof e.value === "number" ? e.value : "unknown";
}

/** Address (and maybe port) choices of a dnat/snat: constants, or map lookups (numgen → branches). */
function targets(
  s: Nat,
  st: PacketState,
  ctx: NatContext,
): Array<{ p: number; addr?: number; port?: number; label?: string; missed?: boolean }> | string {
  const addr = s.addr;
  if (addr?.kind === "map") {
    const withPort = s.port === undefined;
    const r = evalExpr(addr, st, ctx, ["ipv4_addr", "inet_service"]);
    if (r.kind === "absent") return [{ p: 1, missed: true }];
    if (r.kind === "unknown") return r.reason;
    const port = constant(s.port, "inet_service");
    if (port === "unknown") return "a port that is not a constant";
    return r.branches.map((b) => ({
      p: b.p,
      ...(b.absent ? { missed: true } : {}),
      addr: b.values[0] as number,
      ...(withPort && typeof b.values[1] === "number"
        ? { port: b.values[1] }
        : port === undefined
          ? {}
          : { port: port as number }),
      ...(b.label === undefined ? {} : { label: b.label }),
    }));
  }
  const a = constant(addr, "ipv4_addr");
  const port = s.port?.kind === "map" ? "unknown" : constant(s.port, "inet_service");
  if (a === "unknown") return `${s.type} to an address range or expression is not modelled`;
  if (port === "unknown") return `${s.type} to a port range or expression is not modelled`;
  return [
    {
      p: 1,
      ...(a === undefined ? {} : { addr: a as number }),
      ...(port === undefined ? {} : { port: port as number }),
    },
  ];
}

/**
 * Marks the connection's destination or source NAT binding as set up, with the status bits the
 * kernel sets (nf_nat_setup_info): `*_NAT_DONE` always, `dnat`/`snat` when the tuple changed.
 */
export function bindNat(st: PacketState, manip: "dst" | "src", changed: boolean): void {
  if (manip === "dst") {
    st.natDst = true;
    st.ctStatus |= CT_DST_NAT_DONE | (changed ? CT_STATUS.dnat! : 0);
  } else {
    st.natSrc = true;
    st.ctStatus |= CT_SRC_NAT_DONE | (changed ? CT_STATUS.snat! : 0);
  }
}

function describe(type: string, addr: number | undefined, port: number | undefined): string {
  const a = addr === undefined ? "" : formatIpv4(addr);
  const p = port === undefined ? "" : `:${port}`;
  return a === "" && p === "" ? type : `${type} to ${a}${p}`;
}

/** Masquerade: the source becomes the output interface's address (or stays symbolic when unknown). */
function evalMasquerade(s: Nat, st: PacketState, ctx: NatContext): NatResult {
  const port = constant(s.port, "inet_service");
  if (port === "unknown") return { kind: "unknown", reason: "masquerade to a port range is not modelled" };
  const n = cloneState(st);
  const addr = n.oif === undefined ? undefined : ctx.masqueradeAddress?.(n.oif);
  const a = addr === undefined ? undefined : parseIpv4(addr);
  if (a === undefined) n.masquerade = true;
  else n.src = a;
  if (port !== undefined) n.sport = port as number;
  bindNat(n, "src", true);
  const act: NftAct = a === undefined ? { kind: "masquerade" } : { kind: "masquerade", to: formatIpv4(a) };
  return {
    kind: "ok",
    branches: [
      {
        st: n,
        actions: [{ text: a === undefined ? "masquerade" : `masquerade to ${formatIpv4(a)}`, act }],
      },
    ],
  };
}

/** Redirect: the destination becomes the input interface's first IPv4 address (127.0.0.1 for locally sent). */
function evalRedirect(s: Nat, st: PacketState, ctx: NatContext): NatResult {
  const port = constant(s.port, "inet_service");
  if (port === "unknown") return { kind: "unknown", reason: "redirect to a port range is not modelled" };
  const n = cloneState(st);
  let to: number | undefined;
  if (n.iif === undefined) to = parseIpv4("127.0.0.1");
  else {
    const addrs = ctx.interfaceAddresses?.(n.iif);
    if (addrs === undefined)
      return { kind: "unknown", reason: `addresses of interface ${n.iif} are not known (redirect)` };
    // nf_nat_redirect_ipv4: no IPv4 address on the input device means NF_DROP.
    if (addrs.length === 0)
      return { kind: "drop", action: `redirect: ${n.iif} has no IPv4 address, the kernel drops` };
    to = parseIpv4(addrs[0]!);
  }
  if (to === undefined) return { kind: "unknown", reason: "redirect target is not IPv4" };
  n.dst = to;
  if (port !== undefined) n.dport = port as number;
  bindNat(n, "dst", true);
  const text = describe("redirect", to, port as number | undefined);
  return {
    kind: "ok",
    branches: [
      { st: n, actions: [{ text, act: { kind: "redirect", to: text.replace(/^redirect to /, "") } }] },
    ],
  };
}

/** Applies a NAT statement; the caller ends the chain with accept for every branch. */
export function evalNat(s: Nat, st: PacketState, ctx: NatContext): NatResult {
  switch (s.type) {
    case "dnat":
    case "snat": {
      const ts = targets(s, st, ctx);
      if (typeof ts === "string") return { kind: "unknown", reason: ts };
      const branches = ts.map((t) => {
        const n = cloneState(st);
        n.probability *= t.p;
        if (t.missed) return { st: n, actions: [], missed: true };
        if (s.type === "dnat") {
          const changed =
            (t.addr !== undefined && t.addr !== n.dst) || (t.port !== undefined && t.port !== n.dport);
          if (t.addr !== undefined) n.dst = t.addr;
          if (t.port !== undefined) n.dport = t.port;
          bindNat(n, "dst", changed);
        } else {
          const changed =
            (t.addr !== undefined && t.addr !== n.src) || (t.port !== undefined && t.port !== n.sport);
          if (t.addr !== undefined) n.src = t.addr;
          if (t.port !== undefined) n.sport = t.port;
          bindNat(n, "src", changed);
        }
        const action = describe(s.type, t.addr, t.port);
        const to = action.replace(/^\w+( to )?/, "");
        const fork: Did[] =
          t.label === undefined || t.p === 1
            ? []
            : [{ text: t.label, act: { kind: "branch", label: t.label, probability: t.p } }];
        return { st: n, actions: [...fork, { text: action, act: { kind: s.type, to } }] };
      });
      return { kind: "ok", branches };
    }
    case "masquerade":
      return evalMasquerade(s, st, ctx);
    case "redirect":
      return evalRedirect(s, st, ctx);
    default: {
      const never: never = s.type;
      throw new TypeError(`Unknown NAT type ${String(never)}`);
    }
  }
}
