/**
 * What the whole-host trace reads from a node directory besides iptables-save.txt: the nftables
 * ruleset (`nft-ruleset.json`, with `nft-ruleset.txt` for line evidence), the legacy tables
 * (`iptables-legacy-save.txt`) and the node's interfaces (`ip-addr.json`: its own addresses and the
 * subnets, whose bridge a pod's packets arrive on; with `ip-route.json` and `ip-rule.json` its routing
 * decision). Anything absent or unreadable is named in `notRead`: a table
 * netdoctor could not read may act on the packet, so nothing that depends on it is proven.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseIpAddr } from "../hostnet/ip-addr.ts";
import { parseIpRoute } from "../hostnet/ip-route.ts";
import { parseIpRule } from "../hostnet/ip-rule.ts";
import { parseNftRuleset } from "../nft/parse-nft-json.ts";
import type { HostRoutes } from "../trace/host-routing.ts";
import type { IptablesDump, NodeHostEvidence } from "../trace/trace-host.ts";
import { readDump } from "./read-dump.ts";

/** A node's netfilter evidence beyond iptables-save.txt (see trace/trace-host.ts). */
export type NodeNftEvidence = NodeHostEvidence;

async function text(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function interfaces(raw: string | undefined, file: string): Pick<NodeHostEvidence, "addresses" | "subnets"> {
  if (raw === undefined) return { addresses: [], subnets: [] };
  try {
    const table = parseIpAddr(raw, { file });
    const addresses: string[] = [];
    const subnets: { ifname: string; cidr: string }[] = [];
    for (const i of table.interfaces) {
      for (const a of i.addresses) {
        if (a.family !== "inet") continue;
        addresses.push(a.local);
        subnets.push({ ifname: i.ifname, cidr: `${a.local}/${a.prefixlen}` });
      }
    }
    return { addresses, subnets };
  } catch {
    return { addresses: [], subnets: [] };
  }
}

/** Both routing tables, when both files are there and parse (a partial FIB would decide wrongly). */
function routing(route: string | undefined, rule: string | undefined, rel: string): HostRoutes | undefined {
  if (route === undefined || rule === undefined) return undefined;
  try {
    return {
      routes: parseIpRoute(route, { file: `${rel}/ip-route.json` }).routes,
      rules: parseIpRule(rule, { file: `${rel}/ip-rule.json` }).rules,
    };
  } catch {
    return undefined;
  }
}

/** Reads the node's nftables, legacy, interface and routing evidence. */
export async function readNodeNft(dir: string, node: string): Promise<NodeNftEvidence> {
  const rel = `nodes/${node}`;
  const notRead: string[] = [];
  const [json, txt, ipAddr, ipRoute, ipRule] = await Promise.all([
    text(join(dir, rel, "nft-ruleset.json")),
    text(join(dir, rel, "nft-ruleset.txt")),
    text(join(dir, rel, "ip-addr.json")),
    text(join(dir, rel, "ip-route.json")),
    text(join(dir, rel, "ip-rule.json")),
  ]);
  const routes = routing(ipRoute, ipRule, rel);
  let nft: NodeHostEvidence["nft"];
  if (json === undefined) {
    notRead.push(`native nftables tables (${rel}/nft-ruleset.json is missing)`);
  } else {
    try {
      const files = {
        json: `${rel}/nft-ruleset.json`,
        ...(txt === undefined ? {} : { text: `${rel}/nft-ruleset.txt` }),
      };
      nft = { ruleset: parseNftRuleset(json, txt === undefined ? {} : { text: txt }), files };
    } catch (error) {
      notRead.push(`native nftables tables (${rel}/nft-ruleset.json: ${(error as Error).message})`);
    }
  }
  let legacy: IptablesDump | undefined;
  const legacyFile = `${rel}/iptables-legacy-save.txt`;
  const legacyText = await text(join(dir, legacyFile));
  if (legacyText !== undefined && legacyText.trim() !== "") {
    try {
      const ruleset = await readDump(join(dir, legacyFile));
      if (ruleset.tables.size > 0) legacy = { ruleset, file: legacyFile };
    } catch (error) {
      notRead.push(`legacy xtables tables (${legacyFile}: ${(error as Error).message})`);
    }
  }
  return {
    ...(nft === undefined ? {} : { nft }),
    ...(legacy === undefined ? {} : { legacy }),
    notRead,
    nftCollected: json !== undefined || txt !== undefined,
    ...interfaces(ipAddr, `${rel}/ip-addr.json`),
    ...(routes === undefined ? {} : { routing: routes }),
  };
}
