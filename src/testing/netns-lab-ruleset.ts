/**
 * The netfilter state of the netns lab's node namespace: rulesets loaded through the real
 * iptables-restore (nft or legacy) and ipsets through the real `ipset restore`.
 */
import { nsExec } from "./netns-lab-namespaces.ts";

/** The built-in chains of each table, for the tables a ruleset leaves out (so they are emptied too). */
const RESET_TABLES: Readonly<Record<string, string>> = {
  raw: ":PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
  mangle:
    ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n",
  nat: ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n",
  filter: ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
};

/**
 * Replaces the raw/mangle/nat/filter tables of namespace `ns` with `rulesetText` through `restore`
 * (`iptables-nft-restore` or `iptables-legacy-restore`).
 *
 * @throws {Error} With the command's stderr when it refuses the ruleset.
 */
export function restoreRuleset(ns: string, rulesetText: string, options: { restore: string }): void {
  const { restore } = options;
  let text = rulesetText.endsWith("\n") ? rulesetText : `${rulesetText}\n`;
  for (const [table, chains] of Object.entries(RESET_TABLES)) {
    if (!new RegExp(`^\\*${table}\\s*$`, "m").test(text)) text += `*${table}\n${chains}COMMIT\n`;
  }
  try {
    nsExec(ns, [restore, "-w", "5"], text);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`netns lab: ${restore} refused the ruleset: ${(err.stderr || err.message).trim()}`);
  }
}

/**
 * Shortens conntrack's timeouts of unanswered and closing TCP connections in `ns`; false when
 * conntrack is not active there yet.
 *
 * Entries of unanswered connections (SYN_SENT, 120 s by default) keep their NAT binding and would
 * steer a later probe with the same ports: make them expire quickly. The sysctls exist once
 * conntrack is active in the namespace, i.e. after a first ruleset; best effort.
 */
export function tuneConntrack(ns: string): boolean {
  try {
    nsExec(ns, [
      "sh",
      "-c",
      "cd /proc/sys/net/netfilter && echo 10 > nf_conntrack_tcp_timeout_syn_sent && echo 5 > nf_conntrack_tcp_timeout_close && echo 5 > nf_conntrack_tcp_timeout_time_wait",
    ]);
    return true;
  } catch {
    // conntrack not loaded yet: try again on the next load
    return false;
  }
}

/**
 * Replaces the ipsets of `ns` with those of `saveText` (`ipset save` format).
 *
 * @throws {Error} With `ipset`'s stderr when it refuses (e.g. a set still referenced by a rule).
 */
export function restoreIpsets(ns: string, saveText: string): void {
  try {
    // A list:set holds references to its members: flush (empties every set) before destroying.
    nsExec(ns, ["ipset", "flush"]);
    nsExec(ns, ["ipset", "destroy"]);
    nsExec(ns, ["ipset", "restore"], saveText.endsWith("\n") ? saveText : `${saveText}\n`);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`netns lab: ipset restore refused the sets: ${(err.stderr || err.message).trim()}`);
  }
}
