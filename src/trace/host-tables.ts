/**
 * The tables of the whole-host walk: the nft ruleset, with the iptables tables it lacks (legacy
 * xtables tables, and tables iptables-save has that the nft dump does not) added as stand-in base
 * chains at iptables' priorities, and which tables an iptables dump evaluates in the nft walk's place.
 */

import { chainLength, type Ruleset, type TableName } from "../model/ruleset.ts";
import type { NftChain, NftHook, NftRuleset, NftTable } from "../nft/nft-ruleset.ts";
import type { HostEvidence, IptablesDump } from "./host-evidence.ts";
import type { IptablesChains } from "./iptables-delegate.ts";
import { buildTraceIndex } from "./trace-index.ts";

/** iptables' built-in chains: hook and priority (include/uapi/linux/netfilter_ipv4.h NF_IP_PRI_*). */
const PRIORITY: Readonly<Record<TableName, number>> = {
  raw: -300,
  mangle: -150,
  nat: -100,
  filter: 0,
  security: 50,
};
const HOOK_OF: Readonly<Record<string, NftHook>> = {
  PREROUTING: "prerouting",
  INPUT: "input",
  FORWARD: "forward",
  OUTPUT: "output",
  POSTROUTING: "postrouting",
};

/**
 * Whether an iptables table turns conntrack on in the namespace: a nat table with rules (xtables'
 * NAT needs it), or a rule with a conntrack-based match or target (libxt_*.c nf_ct_netns_get).
 */
function needsConntrack(rs: Ruleset, name: TableName): boolean {
  const t = rs.tables.get(name);
  if (t === undefined) return false;
  const tracks =
    /-m (conntrack|state|connmark|connlimit|connbytes|helper)\b|-j (CONNMARK|CT|DNAT|SNAT|MASQUERADE|REDIRECT)\b/;
  for (const c of t.chains.values()) {
    if (chainLength(c) === 0) continue;
    if (name === "nat") return true;
    // Rule texts without making rule objects where the parsed chain can (a leaked dump is huge).
    for (const text of c.ruleTexts?.() ?? c.rules.map((r) => r.text)) if (tracks.test(text)) return true;
  }
  return false;
}

/**
 * A stand-in nft table for an iptables table the nft ruleset does not hold (legacy xtables), with
 * its built-in chains as base chains, except those in `skip` (the nft dump hooks them already).
 */
function xtablesTable(
  rs: Ruleset,
  name: TableName,
  handle: number,
  skip?: ReadonlySet<string>,
): NftTable | undefined {
  const t = rs.tables.get(name);
  if (t === undefined) return undefined;
  const chains = new Map<string, NftChain>();
  for (const chain of t.chains.values()) {
    const hook = HOOK_OF[chain.name];
    if (hook === undefined || chain.policy === undefined || skip?.has(chain.name)) continue;
    const prio = name === "nat" && (hook === "input" || hook === "postrouting") ? 100 : PRIORITY[name];
    chains.set(chain.name, {
      family: "ip",
      table: name,
      name: chain.name,
      handle: 0,
      base: {
        type: name === "nat" ? "nat" : "filter",
        hook,
        priority: prio,
        policy: chain.policy === "DROP" ? "drop" : "accept",
      },
      rules: [],
    });
  }
  return {
    family: "ip",
    name,
    handle,
    flags: [],
    dormant: false,
    owner: "iptables-nft",
    chains,
    sets: new Map(),
  };
}

const TABLES: readonly TableName[] = ["raw", "mangle", "nat", "filter", "security"];

export interface Plan {
  readonly ruleset: NftRuleset;
  readonly delegates: Map<NftTable, { src: IptablesChains; table: TableName }>;
  readonly tables: string[];
  readonly conntrackOn: boolean;
}

function sourceOf(
  dump: IptablesDump,
  backend: IptablesChains["backend"],
  base: Omit<IptablesChains, "index" | "backend">,
) {
  return { ...base, backend, index: buildTraceIndex(dump.ruleset, { eager: false, file: dump.file }) };
}

/** The nft ruleset with the iptables tables it lacks added, and which tables iptables dumps evaluate. */
export function plan(ev: HostEvidence, base: Omit<IptablesChains, "index" | "backend">): Plan {
  const delegates: Plan["delegates"] = new Map();
  const extra: NftTable[] = [];
  const tables: string[] = [];
  let conntrackOn = false;
  const ipt = ev.iptables;
  const iptLegacy = ipt?.ruleset.header.backend === "legacy";
  const nftSrc = ipt === undefined || iptLegacy ? undefined : sourceOf(ipt, "iptables-nft", base);
  const hooked = new Map<TableName, Set<string>>();
  for (const t of ev.nft.ruleset.tables) {
    const name = t.name as TableName;
    if (t.family === "ip" && t.owner === "iptables-nft" && nftSrc !== undefined && TABLES.includes(name)) {
      if (ipt!.ruleset.tables.has(name)) {
        delegates.set(t, { src: nftSrc, table: name });
        hooked.set(
          name,
          new Set([...t.chains.values()].filter((c) => c.base !== undefined).map((c) => c.name)),
        );
        tables.push(`iptables-nft ${name} (${ipt!.file})`);
        continue;
      }
    }
    tables.push(`nft ${t.family} ${t.name}`);
  }
  let handle = -1;
  // iptables-save's built-in chains the nft dump does not hook (dumps taken at different times, a
  // table nft shows empty): walked from iptables-save at iptables' priorities all the same.
  for (const name of TABLES) {
    if (nftSrc === undefined) continue;
    const t = xtablesTable(ipt!.ruleset, name, handle--, hooked.get(name));
    if (t === undefined || t.chains.size === 0) continue;
    extra.push(t);
    delegates.set(t, { src: nftSrc, table: name });
    if (!hooked.has(name)) tables.push(`iptables-nft ${name} (${ipt!.file})`);
    conntrackOn ||= needsConntrack(ipt!.ruleset, name);
  }
  const legacyDumps = [...(iptLegacy ? [ipt!] : []), ...(ev.legacy === undefined ? [] : [ev.legacy])];
  for (const dump of legacyDumps) {
    const src = sourceOf(dump, "legacy", base);
    for (const name of TABLES) {
      const t = xtablesTable(dump.ruleset, name, handle--);
      if (t === undefined || t.chains.size === 0) continue;
      extra.push(t);
      delegates.set(t, { src, table: name });
      tables.push(`iptables-legacy ${name} (${dump.file})`);
      conntrackOn ||= needsConntrack(dump.ruleset, name);
    }
  }
  const ruleset =
    extra.length === 0 ? ev.nft.ruleset : { ...ev.nft.ruleset, tables: [...extra, ...ev.nft.ruleset.tables] };
  return { ruleset, delegates, tables, conntrackOn };
}
