/**
 * The real `nft` in throw-away namespaces: load a ruleset (`nft -f`, with `flush ruleset` first so
 * every load starts clean), and read it back as `nft -j list ruleset` and `nft -a list ruleset`,
 * the two files a bundle holds. Works on a netns lab's node namespace (netns-lab.ts) or on a bare
 * namespace of iptables-netns.ts; nothing here touches the machine's own namespace.
 */
import { execFileSync } from "node:child_process";
import { commandUnavailable } from "./capabilities.ts";
import { createIptablesNetns } from "./iptables-netns.ts";
import type { Lab } from "./netns-lab.ts";

function nsRun(ns: string, args: readonly string[], input?: string): string {
  return execFileSync("ip", ["netns", "exec", ns, ...args], {
    input,
    encoding: "utf8",
    stdio: "pipe",
    timeout: 60_000,
    maxBuffer: 256 << 20,
  });
}

/** What the real nft prints for the namespace's ruleset. */
export interface NftDump {
  /** `nft -j list ruleset`. */
  readonly json: string;
  /** `nft -a list ruleset`. */
  readonly text: string;
}

/**
 * Replaces the namespace's whole ruleset (iptables-nft tables included) with `text`, atomically.
 * Throws with nft's own message when nft refuses the text.
 */
export function loadNft(ns: string, text: string): void {
  try {
    nsRun(ns, ["nft", "-f", "/dev/stdin"], `flush ruleset\n${text}\n`);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(
      `nft refused the ruleset: ${(err.stderr || err.message).trim()}\n--- ruleset ---\n${text}`,
    );
  }
}

/** Dumps the namespace's ruleset with the real nft. */
export function dumpNft(ns: string): NftDump {
  return {
    json: nsRun(ns, ["nft", "-j", "list", "ruleset"]),
    text: nsRun(ns, ["nft", "-a", "list", "ruleset"]),
  };
}

/** Runs a command in the namespace (iptables-nft-restore next to nft tables, conntrack -F ...). */
export function nsExec(ns: string, args: readonly string[], input?: string): string {
  return nsRun(ns, args, input);
}

/**
 * Loads `text` into a lab's node namespace and forgets every connection, so an earlier ruleset's
 * NAT bindings cannot steer a probe; also shortens conntrack timeouts of unanswered connections.
 */
export function loadNftLab(lab: Lab, text: string): void {
  const ns = lab.namespaces.node;
  loadNft(ns, text);
  try {
    nsRun(ns, ["conntrack", "-F"]);
  } catch {
    // No entries, or conntrack not loaded yet in this namespace.
  }
  try {
    nsRun(ns, [
      "sh",
      "-c",
      "cd /proc/sys/net/netfilter && echo 10 > nf_conntrack_tcp_timeout_syn_sent && echo 5 > nf_conntrack_tcp_timeout_close && echo 5 > nf_conntrack_tcp_timeout_time_wait",
    ]);
  } catch {
    // conntrack sysctls appear once conntrack is active in the namespace.
  }
}

/** Why nft cannot be used here (absent binary), or undefined. */
export function nftUnavailable(): string | undefined {
  return commandUnavailable("nft") ?? commandUnavailable("conntrack");
}

/**
 * Loads `text` into a fresh bare namespace and returns what nft prints back. The namespace is
 * deleted before returning.
 */
export function nftRoundTrip(text: string, area = "nft"): NftDump {
  const ns = createIptablesNetns(area);
  try {
    loadNft(ns.name, text);
    return dumpNft(ns.name);
  } finally {
    ns.destroy();
  }
}
