/**
 * The nftables ruleset as `nft -j list ruleset` prints it (libnftables-json(5), schema version 1),
 * as typed data. Every rule keeps its handle; rules, chains and sets also keep their line in
 * `nft -a list ruleset` text when that was parsed too (see parse-nft-text.ts), for file:line
 * evidence. Nothing here evaluates anything: see eval-chain.ts and eval-hook.ts.
 */

export type NftFamily = "ip" | "ip6" | "inet" | "arp" | "bridge" | "netdev";

/** Netfilter hooks of the families netdoctor evaluates (ip, inet, netdev). */
export type NftHook = "ingress" | "prerouting" | "input" | "forward" | "output" | "postrouting" | "egress";

/** `accept`, `drop`, `continue`, `return`, `jump CHAIN`, `goto CHAIN`. */
export type NftVerdict =
  | { readonly kind: "accept" | "drop" | "continue" | "return" }
  | { readonly kind: "jump" | "goto"; readonly target: string };

/** Match operators of the JSON schema (`<=` is printed as `<=`; the man page shows `⇐`). */
export type NftMatchOp = "==" | "!=" | "<" | ">" | "<=" | ">=" | "in";

export type NftBinaryOp = "&" | "|" | "^" | "<<" | ">>";

/** One element of a set or map: the key, for maps the data, and its comment. */
export interface NftElement {
  readonly key: NftExpr;
  readonly data?: NftExpr;
  readonly comment?: string;
}

/** Expressions: values, packet fields, metadata, lookups. */
export type NftExpr =
  | { readonly kind: "immediate"; readonly value: string | number | boolean }
  /** `@name`: a named set or map of the same table. */
  | { readonly kind: "setref"; readonly name: string }
  /** A JSON array outside a set: a list of flags (`ct state established,related`). */
  | { readonly kind: "list"; readonly items: readonly NftExpr[] }
  | { readonly kind: "concat"; readonly items: readonly NftExpr[] }
  /** An anonymous set (`{ 22, 80 }`) or, with `data`, an anonymous map. */
  | { readonly kind: "set"; readonly elements: readonly NftElement[] }
  | { readonly kind: "prefix"; readonly addr: NftExpr; readonly len: number }
  | { readonly kind: "range"; readonly from: NftExpr; readonly to: NftExpr }
  | { readonly kind: "payload"; readonly protocol: string; readonly field: string }
  | { readonly kind: "meta"; readonly key: string }
  | {
      readonly kind: "ct";
      readonly key: string;
      readonly dir?: "original" | "reply";
      readonly family?: string;
    }
  | { readonly kind: "fib"; readonly result: string; readonly flags: readonly string[] }
  | {
      readonly kind: "numgen";
      readonly mode: "random" | "inc";
      readonly mod: number;
      readonly offset: number;
    }
  | { readonly kind: "binop"; readonly op: NftBinaryOp; readonly left: NftExpr; readonly right: NftExpr }
  /** A map lookup: `KEY map @m` or `KEY map { k : v }`. */
  | { readonly kind: "map"; readonly key: NftExpr; readonly data: NftExpr }
  | { readonly kind: "verdict"; readonly verdict: NftVerdict }
  /** Anything netdoctor does not evaluate (jhash, symhash, rt, exthdr, socket, osf, raw payload...). */
  | { readonly kind: "unsupported"; readonly name: string; readonly json: string };

export type NftNatType = "dnat" | "snat" | "masquerade" | "redirect";

/** Statements: what a rule does, in order. */
export type NftStmt =
  | { readonly kind: "match"; readonly op: NftMatchOp; readonly left: NftExpr; readonly right: NftExpr }
  | { readonly kind: "verdict"; readonly verdict: NftVerdict }
  | { readonly kind: "vmap"; readonly key: NftExpr; readonly data: NftExpr }
  | { readonly kind: "counter" }
  | { readonly kind: "log"; readonly prefix?: string }
  /** `meta mark set ...`, `ct mark set ...` and other header/metadata writes. */
  | { readonly kind: "mangle"; readonly key: NftExpr; readonly value: NftExpr }
  | {
      readonly kind: "nat";
      readonly type: NftNatType;
      readonly addr?: NftExpr;
      readonly port?: NftExpr;
      readonly family?: string;
      readonly flags: readonly string[];
    }
  /** `reject [with TYPE CODE]`; type "icmp", "icmpx", "icmpv6" or "tcp reset". */
  | { readonly kind: "reject"; readonly type?: string; readonly code?: string }
  /** `add @set { ... }` / `update @set { ... }` / `delete @set { ... }`: state for later packets. */
  | { readonly kind: "setop"; readonly op: string; readonly set: string; readonly elem: NftExpr }
  | { readonly kind: "notrack" }
  /** An xtables match/target of iptables-nft: opaque in JSON, its meaning is in iptables-nft-save. */
  | { readonly kind: "xt"; readonly type: string; readonly name: string }
  /**
   * Statements without a model. `effect` says what ignoring them would risk: "none" (no effect on
   * the verdict or on modelled headers: counters, helpers), "match" (they decide by state netdoctor
   * cannot see whether the rule goes on: limit, quota, ct count), "terminal" (they end the walk in a
   * way not modelled: queue, fwd, tproxy) or "unknown" (a statement this schema reader does not know).
   */
  | {
      readonly kind: "other";
      readonly name: string;
      readonly effect: "none" | "match" | "terminal" | "unknown";
      readonly json: string;
    };

/** Where a rule, chain or set is printed in `nft -a list ruleset` text (1-indexed line). */
export interface NftTextRef {
  readonly line: number;
  /** The line, trimmed (for rules it ends with `# handle N`). */
  readonly text: string;
}

export interface NftRule {
  readonly family: NftFamily;
  readonly table: string;
  readonly chain: string;
  readonly handle: number;
  readonly comment?: string;
  readonly stmts: readonly NftStmt[];
  /** Position of the rule in the JSON `nftables` array (0-based), for evidence without text. */
  readonly index: number;
  readonly text?: NftTextRef;
}

export interface NftBaseChain {
  /** `filter`, `nat` or `route`. */
  readonly type: string;
  readonly hook: NftHook;
  readonly priority: number;
  readonly policy: "accept" | "drop";
  /**
   * Devices of an ingress/egress chain. libnftables 1.0.6 leaves them out of the JSON; they are
   * taken from the text dump when it was given, and absent (unknown) otherwise.
   */
  readonly devices?: readonly string[];
}

export interface NftChain {
  readonly family: NftFamily;
  readonly table: string;
  readonly name: string;
  readonly handle: number;
  readonly base?: NftBaseChain;
  readonly rules: readonly NftRule[];
  readonly comment?: string;
  readonly text?: NftTextRef;
}

export interface NftSet {
  readonly family: NftFamily;
  readonly table: string;
  readonly name: string;
  readonly handle: number;
  /** Key datatypes, one per concatenated component (`["ipv4_addr", "inet_proto", "inet_service"]`). */
  readonly keyType: readonly string[];
  /** For maps: data datatypes (`["verdict"]`, `["ipv4_addr", "inet_service"]`). */
  readonly dataType?: readonly string[];
  readonly flags: readonly string[];
  readonly elements: readonly NftElement[];
  readonly comment?: string;
  readonly text?: NftTextRef;
  /** The lines of the set's block in the text dump (type, flags, elements), for element evidence. */
  readonly textBody?: readonly NftTextRef[];
}

/** Who wrote a table: native nft (firewalld, kube-proxy, flannel, hand-written) or iptables-nft. */
export type NftTableOwner = "nftables" | "iptables-nft";

export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
  readonly handle: number;
  readonly flags: readonly string[];
  /** A dormant table registers no hooks: its base chains see no packet. */
  readonly dormant: boolean;
  readonly comment?: string;
  readonly owner: NftTableOwner;
  /** Why the owner is what it is (`xt expressions in chain INPUT`). */
  readonly ownerReason?: string;
  readonly chains: ReadonlyMap<string, NftChain>;
  readonly sets: ReadonlyMap<string, NftSet>;
  readonly text?: NftTextRef;
}

/** A problem found while reading the ruleset; the rest is still usable. */
export interface NftWarning {
  readonly message: string;
  /** Position in the JSON `nftables` array, when the warning is about one object. */
  readonly index?: number;
  readonly table?: string;
  readonly chain?: string;
  readonly handle?: number;
}

export interface NftRuleset {
  /** `metainfo.version` of the nft that printed the JSON, e.g. "1.0.6". */
  readonly nftVersion?: string;
  readonly jsonSchemaVersion?: number;
  readonly tables: readonly NftTable[];
  readonly warnings: readonly NftWarning[];
}

/** `family table` as nft names a table, e.g. `ip kube-proxy`. */
export function tableKey(family: string, table: string): string {
  return `${family} ${table}`;
}

/** The table `family name`, if the ruleset has it. */
export function findTable(ruleset: NftRuleset, family: NftFamily, name: string): NftTable | undefined {
  return ruleset.tables.find((t) => t.family === family && t.name === name);
}
