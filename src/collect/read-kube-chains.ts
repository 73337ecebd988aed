/**
 * kube-proxy's and kube-router's chains per iptables backend of a node directory, when it shows
 * both backends (the mixed-iptables-backends check, src/known-bugs/mixed-kube-chains.ts): a legacy
 * iptables-save.txt beside iptables-nft's tables in nft-ruleset.txt, or iptables-legacy-save.txt
 * beside an nf_tables iptables-save.txt. Read only then (a second pass over iptables-save.txt).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type KubeChains, kubeChainsOfNft, kubeChainsOfSave } from "../known-bugs/kube-chains.ts";
import type { EvidenceFile } from "../known-bugs/node-evidence.ts";

/** Both backends' Kubernetes chains, or undefined when the node shows one backend only. */
export async function readKubeChains(
  dir: string,
  node: string,
  seen: {
    readonly backend: string | undefined;
    readonly nftRuleset: EvidenceFile | undefined;
    /** Chains counted in iptables-legacy-save.txt (undefined when absent). */
    readonly legacyChains: number | undefined;
  },
): Promise<{ legacy: KubeChains; nfTables: KubeChains } | undefined> {
  const rel = `nodes/${node}`;
  const save = async (name: string) =>
    kubeChainsOfSave(await readFile(join(dir, rel, name), "utf8"), `${rel}/${name}`);
  try {
    if (seen.backend === "legacy" && seen.nftRuleset !== undefined)
      return {
        legacy: await save("iptables-save.txt"),
        nfTables: kubeChainsOfNft(seen.nftRuleset.text, seen.nftRuleset.file),
      };
    if (seen.backend !== "legacy" && seen.backend !== undefined && (seen.legacyChains ?? 0) > 0)
      return { legacy: await save("iptables-legacy-save.txt"), nfTables: await save("iptables-save.txt") };
  } catch {
    // A file that cannot be read again is reported by the first pass (bundle-invalid).
  }
  return undefined;
}
