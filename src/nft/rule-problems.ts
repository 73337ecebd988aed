/**
 * What netdoctor cannot evaluate in a rule, and who owns a table. A rule with an opaque `xt`
 * expression (iptables-nft) or an expression without a model is kept; evaluating it yields
 * "undecided" with the reason given here (Batfish style: warn, never guess).
 */
import type { NftChain, NftExpr, NftRule, NftStmt, NftTableOwner, NftWarning } from "./nft-ruleset.ts";

/** Names of expressions in `e` that netdoctor cannot evaluate (empty when it can). */
export function unsupportedIn(e: NftExpr, out: string[] = []): string[] {
  switch (e.kind) {
    case "unsupported":
      out.push(e.name);
      break;
    case "list":
    case "concat":
      for (const i of e.items) unsupportedIn(i, out);
      break;
    case "set":
      for (const el of e.elements) {
        unsupportedIn(el.key, out);
        if (el.data !== undefined) unsupportedIn(el.data, out);
      }
      break;
    case "prefix":
      unsupportedIn(e.addr, out);
      break;
    case "range":
      unsupportedIn(e.from, out);
      unsupportedIn(e.to, out);
      break;
    case "binop":
      unsupportedIn(e.left, out);
      unsupportedIn(e.right, out);
      break;
    case "map":
      unsupportedIn(e.key, out);
      unsupportedIn(e.data, out);
      break;
    case "immediate":
    case "setref":
    case "payload":
    case "meta":
    case "ct":
    case "fib":
    case "numgen":
    case "verdict":
      break;
    default: {
      const never: never = e;
      throw new TypeError(`Unknown expression ${JSON.stringify(never)}`);
    }
  }
  return out;
}

/** Why one statement cannot be evaluated, or undefined when it can. */
export function stmtProblem(s: NftStmt): string | undefined {
  const names: string[] = [];
  switch (s.kind) {
    case "match":
      unsupportedIn(s.left, names);
      unsupportedIn(s.right, names);
      break;
    case "vmap":
      unsupportedIn(s.key, names);
      unsupportedIn(s.data, names);
      break;
    case "mangle":
      unsupportedIn(s.key, names);
      unsupportedIn(s.value, names);
      break;
    case "nat":
      if (s.addr !== undefined) unsupportedIn(s.addr, names);
      if (s.port !== undefined) unsupportedIn(s.port, names);
      break;
    case "setop":
      unsupportedIn(s.elem, names);
      break;
    case "xt":
      return `xt ${s.type} ${s.name} (written by iptables-nft: read this chain from iptables-nft-save)`;
    case "other":
      return s.effect === "none" ? undefined : `statement ${s.name} is not modelled`;
    case "verdict":
    case "counter":
    case "log":
    case "reject":
    case "notrack":
      break;
    default: {
      const never: never = s;
      throw new TypeError(`Unknown statement ${JSON.stringify(never)}`);
    }
  }
  return names.length === 0 ? undefined : `expression ${[...new Set(names)].join(", ")} is not modelled`;
}

/** Why a rule cannot be evaluated exactly, or undefined when every statement has a model. */
export function ruleProblem(rule: NftRule): string | undefined {
  for (const s of rule.stmts) {
    const p = stmtProblem(s);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** One warning per rule of `chain` that cannot be evaluated. */
export function ruleProblems(chain: NftChain): NftWarning[] {
  const out: NftWarning[] = [];
  for (const r of chain.rules) {
    const p = ruleProblem(r);
    if (p === undefined) continue;
    out.push({
      message: `Cannot evaluate rule handle ${r.handle} in chain ${r.family} ${r.table} ${r.chain}: ${p}`,
      table: r.table,
      chain: r.chain,
      handle: r.handle,
      index: r.index,
    });
  }
  return out;
}

/** The table names and built-in chain names iptables-nft creates. */
const IPTABLES_TABLES = new Set(["filter", "nat", "mangle", "raw", "security"]);
const IPTABLES_CHAINS = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);

/**
 * iptables-nft owns a table when nft said so in its text dump, when a rule holds an `xt` expression,
 * or when an ip/ip6 table has iptables' name and only iptables' built-in base chains (iptables-nft
 * translates most matches natively, so a table of plain `-p tcp --dport` rules has no `xt` at all).
 */
export function tableOwner(
  family: string,
  name: string,
  chains: ReadonlyMap<string, NftChain>,
  textSaysIptables: boolean,
): { owner: NftTableOwner; ownerReason?: string } {
  if (textSaysIptables)
    return { owner: "iptables-nft", ownerReason: "nft prints it as managed by iptables-nft" };
  for (const c of chains.values()) {
    const xt = c.rules.find((r) => r.stmts.some((s) => s.kind === "xt"));
    if (xt !== undefined) {
      return { owner: "iptables-nft", ownerReason: `xt expressions (chain ${c.name}, handle ${xt.handle})` };
    }
  }
  const bases = [...chains.values()].filter((c) => c.base !== undefined);
  if (
    (family === "ip" || family === "ip6") &&
    IPTABLES_TABLES.has(name) &&
    bases.length > 0 &&
    bases.every((c) => IPTABLES_CHAINS.has(c.name))
  ) {
    return {
      owner: "iptables-nft",
      ownerReason: `iptables table name "${name}" with only built-in chain names`,
    };
  }
  return { owner: "nftables" };
}
