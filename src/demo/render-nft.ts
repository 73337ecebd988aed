/**
 * A demo node's `nft -j list ruleset` and `nft -a list ruleset` (bundle files nft-ruleset.json and
 * nft-ruleset.txt), as nft 1.0.6 (Debian 12's) prints them on a node whose iptables-nft wrote the
 * node's iptables-save: the demo nodes have no native nftables table, so real nft lists exactly
 * iptables-nft's own tables — `table ip mangle`, `ip filter`, `ip nat` — with every chain and rule,
 * in the order iptables-nft-restore creates them (tables, then per table its chains, then its rules;
 * handles counted per table). The whole-host trace walks these tables' rules from iptables-save (it
 * never counts them twice); this listing tells it which tables and base chains the kernel has and
 * that nothing else is there. Checked byte for byte against the real tools in a network namespace
 * (render-nft.kernel.test.ts).
 */
import { type NftJson, nftRule } from "./render-nft-rule.ts";

/** `metainfo` of nft 1.0.6. */
const META = { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 };

/** Base chains of iptables-nft's tables: type, priority and how nft names the priority. */
const BASE: Readonly<Record<string, Readonly<Record<string, readonly [string, number, string]>>>> = {
  mangle: {
    PREROUTING: ["filter", -150, "mangle"],
    INPUT: ["filter", -150, "mangle"],
    FORWARD: ["filter", -150, "mangle"],
    OUTPUT: ["route", -150, "mangle"],
    POSTROUTING: ["filter", -150, "mangle"],
  },
  filter: {
    INPUT: ["filter", 0, "filter"],
    FORWARD: ["filter", 0, "filter"],
    OUTPUT: ["filter", 0, "filter"],
  },
  nat: {
    PREROUTING: ["nat", -100, "dstnat"],
    INPUT: ["nat", 100, "100"],
    OUTPUT: ["nat", -100, "-100"],
    POSTROUTING: ["nat", 100, "srcnat"],
  },
};

/** JSON as nft (jansson) prints it: `", "` and `": "` separators, on one line. */
export function nftJsonText(v: NftJson): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(nftJsonText).join(", ")}]`;
  const o = v as { readonly [k: string]: NftJson };
  return `{${Object.keys(o)
    .map((k) => `${JSON.stringify(k)}: ${nftJsonText(o[k]!)}`)
    .join(", ")}}`;
}

interface Table {
  readonly name: string;
  readonly chains: { name: string; policy: string }[];
  readonly rules: Map<string, string[]>;
}

/** The tables of an iptables-save text, in its order. */
function tablesOf(dump: string): Table[] {
  const tables: Table[] = [];
  let t: Table | undefined;
  for (const line of dump.split("\n")) {
    if (line.startsWith("*")) tables.push((t = { name: line.slice(1), chains: [], rules: new Map() }));
    else if (t === undefined) continue;
    else if (line.startsWith(":")) {
      const [name, policy] = line.slice(1).split(" ");
      t.chains.push({ name: name!, policy: policy! });
    } else if (line.startsWith("-A ")) {
      const sp = line.indexOf(" ", 3);
      const chain = line.slice(3, sp);
      let list = t.rules.get(chain);
      if (list === undefined) t.rules.set(chain, (list = []));
      list.push(line.slice(sp + 1));
    }
  }
  return tables;
}

/**
 * nft-ruleset.json and nft-ruleset.txt of a node whose only netfilter tables are the ones
 * iptables-nft wrote (its iptables-save text). Identical rules (a leak's copies) are translated once.
 *
 * @throws {RangeError} For a table, base chain or rule option the demo does not use.
 */
export function renderNft(dump: string): { readonly json: string; readonly text: string } {
  const items: string[] = [nftJsonText({ metainfo: META })];
  const text: string[] = [];
  const memo = new Map<string, { expr: string; text: string }>();
  let tableHandle = 0;
  for (const t of tablesOf(dump)) {
    const base = BASE[t.name];
    if (base === undefined) throw new RangeError(`Cannot render table ${t.name} as nft`);
    const th = ++tableHandle;
    items.push(nftJsonText({ table: { family: "ip", name: t.name, handle: th } }));
    text.push(`table ip ${t.name} { # handle ${th}`);
    let handle = 0;
    const chainHandles = new Map<string, number>();
    for (const c of t.chains) {
      const h = ++handle;
      chainHandles.set(c.name, h);
      const b = c.policy === "-" ? undefined : base[c.name];
      if (c.policy !== "-" && b === undefined) throw new RangeError(`Cannot render chain ${c.name} as nft`);
      const policy = c.policy === "DROP" ? "drop" : "accept";
      const chain = { family: "ip", table: t.name, name: c.name, handle: h };
      items.push(
        nftJsonText({
          chain:
            b === undefined
              ? chain
              : { ...chain, type: b[0], hook: c.name.toLowerCase(), prio: b[1], policy },
        }),
      );
    }
    const lines = new Map<string, string[]>();
    for (const c of t.chains) {
      const out: string[] = [];
      for (const args of t.rules.get(c.name) ?? []) {
        const h = ++handle;
        let r = memo.get(args);
        if (r === undefined) {
          const n = nftRule(args);
          r = { expr: nftJsonText(n.expr), text: n.text };
          memo.set(args, r);
        }
        items.push(
          `{"rule": {"family": "ip", "table": ${JSON.stringify(t.name)}, "chain": ${JSON.stringify(c.name)}, "handle": ${h}, "expr": ${r.expr}}}`,
        );
        out.push(`\t\t${r.text} # handle ${h}`);
      }
      lines.set(c.name, out);
    }
    t.chains.forEach((c, i) => {
      if (i > 0) text.push("");
      text.push(`\tchain ${c.name} { # handle ${chainHandles.get(c.name)}`);
      const b = c.policy === "-" ? undefined : base[c.name];
      if (b !== undefined)
        text.push(
          `\t\ttype ${b[0]} hook ${c.name.toLowerCase()} priority ${b[2]}; policy ${c.policy === "DROP" ? "drop" : "accept"};`,
        );
      for (const l of lines.get(c.name)!) text.push(l);
      text.push("\t}");
    });
    text.push("}");
  }
  return { json: `{"nftables": [${items.join(", ")}]}\n`, text: `${text.join("\n")}\n` };
}
