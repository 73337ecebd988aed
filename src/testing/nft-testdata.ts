/**
 * The nftables dumps under testdata/nft/: each `NAME.nft` (nft syntax) or `NAME.save` (iptables-nft
 * restore input) is loaded into a throw-away namespace with the real tool and printed back with
 * `nft -j list ruleset` (`NAME.json`) and `nft -a list ruleset` (`NAME.txt`). The pure tests read the
 * stored dumps; the netns test regenerates them and checks they are still what nft prints
 * (ND_UPDATE_TESTDATA=1 rewrites them).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createIptablesNetns } from "./iptables-netns.ts";
import { dumpNft, loadNft, type NftDump } from "./nft-lab.ts";

export const NFT_TESTDATA = resolve(process.cwd(), "testdata/nft");

/** Source files of the stored dumps: `kitchen-sink.nft`, `iptables-nft.save`, ... */
export function nftTestdataSources(): string[] {
  return readdirSync(NFT_TESTDATA)
    .filter((f) => f.endsWith(".nft") || f.endsWith(".save"))
    .sort();
}

/** The stored dump of a source (`kitchen-sink.nft` → `kitchen-sink.json` and `.txt`). */
export function storedDump(source: string): NftDump {
  const stem = source.replace(/\.(nft|save)$/, "");
  return {
    json: readFileSync(join(NFT_TESTDATA, `${stem}.json`), "utf8"),
    text: readFileSync(join(NFT_TESTDATA, `${stem}.txt`), "utf8"),
  };
}

/** Loads a source with the real nft (or iptables-nft-restore) in a fresh namespace and dumps it. */
export function regenerateDump(source: string): NftDump {
  const text = readFileSync(join(NFT_TESTDATA, source), "utf8");
  const ns = createIptablesNetns("nftdata");
  try {
    if (source.endsWith(".save")) ns.restore(text, { backend: "nft" });
    else loadNft(ns.name, text);
    return dumpNft(ns.name);
  } finally {
    ns.destroy();
  }
}
