/**
 * Whether the ruleset turns connection tracking on in its network namespace. Conntrack is not
 * always there: nftables enables it (nf_ct_netns_get) only for expressions that need it — `ct`
 * matches and sets, NAT statements, and the xtables matches and targets of iptables-nft that track
 * connections. A NAT chain alone does not: without conntrack the NAT core never calls NAT chains
 * (nf_nat_inet_fn returns at once without a conntrack entry), so a `drop` in such a chain drops
 * nothing (kernel-verified). Other users in the same namespace (iptables-legacy rules, other
 * subsystems) can turn it on too: callers that know about them say so.
 */
import type { NftExpr, NftRuleset, NftStmt } from "./nft-ruleset.ts";

/** iptables-nft xtables extensions that need conntrack (libxt_*.c calling nf_ct_netns_get). */
const XT_CONNTRACK = new Set([
  "conntrack",
  "state",
  "connmark",
  "CONNMARK",
  "connlimit",
  "connbytes",
  "connlabel",
  "helper",
  "CT",
  "DNAT",
  "SNAT",
  "MASQUERADE",
  "REDIRECT",
  "NETMAP",
  "cluster",
  "ipvs",
]);

/** Statements of the `other` kind that need conntrack. */
const OTHER_CONNTRACK = new Set([
  "ct count",
  "ct helper",
  "ct timeout",
  "ct expectation",
  "flow",
  "synproxy",
]);

function exprUsesCt(e: NftExpr): boolean {
  switch (e.kind) {
    case "ct":
      return true;
    case "list":
    case "concat":
      return e.items.some(exprUsesCt);
    case "set":
      return e.elements.some((el) => exprUsesCt(el.key) || (el.data !== undefined && exprUsesCt(el.data)));
    case "prefix":
      return exprUsesCt(e.addr);
    case "range":
      return exprUsesCt(e.from) || exprUsesCt(e.to);
    case "binop":
      return exprUsesCt(e.left) || exprUsesCt(e.right);
    case "map":
      return exprUsesCt(e.key) || exprUsesCt(e.data);
    default:
      return false;
  }
}

function stmtUsesCt(s: NftStmt): boolean {
  switch (s.kind) {
    case "match":
      return exprUsesCt(s.left) || exprUsesCt(s.right);
    case "vmap":
      return exprUsesCt(s.key);
    case "mangle":
      return exprUsesCt(s.key) || exprUsesCt(s.value);
    case "nat":
      return true;
    case "setop":
      return exprUsesCt(s.elem);
    case "xt":
      return XT_CONNTRACK.has(s.name);
    case "other":
      return OTHER_CONNTRACK.has(s.name);
    default:
      return false;
  }
}

/** True when a rule needs conntrack (rules of dormant tables too: they are loaded all the same). */
export function conntrackInUse(ruleset: NftRuleset): boolean {
  for (const t of ruleset.tables) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) if (r.stmts.some(stmtUsesCt)) return true;
    }
  }
  return false;
}
