/**
 * The whole-host trace of a bundle node (issue 15): when the node directory has nft-ruleset.json,
 * the packet goes through every table at each hook (legacy, iptables-nft and native nftables, in
 * priority order, src/trace/trace-host.ts); with only iptables-save.txt, the caller keeps the
 * iptables trace, and `notRead` says which tables were not looked at.
 */
import type { HostFacts } from "../diagnose/host-facts.ts";
import { traceClientNode } from "../diagnose/host-node.ts";
import type { Ruleset } from "../model/ruleset.ts";
import type { TraceResult } from "../model/trace.ts";
import { legacyNotRead } from "../trace/trace-host.ts";
import type { TraceOptions, TraceRequest } from "../trace/trace-request.ts";
import { readNodeNft } from "./read-node-nft.ts";

/** What the whole-host walk saw on a node. */
export interface HostTraceNode extends HostFacts {
  /** The whole-host trace; absent without nft-ruleset.json (or when it failed: see `error`). */
  readonly result?: TraceResult;
  /** Why the whole-host trace could not be made (the nft evidence was read). */
  readonly error?: string;
}

/**
 * Reads the node's nft/legacy/interface evidence and, when nft-ruleset.json is there, traces the
 * request through the whole host (the node's addresses completed from ip-addr.json, a pod's
 * in-interface from the subnet that holds its address).
 */
export async function hostTraceNode(
  dir: string,
  node: string,
  input: {
    readonly request: TraceRequest;
    readonly iptables?: {
      ruleset: Ruleset;
      file: string;
      extras?: Pick<TraceOptions, "ipsets" | "bridged">;
    };
  },
): Promise<HostTraceNode> {
  const ev = await readNodeNft(dir, node);
  const notRead = [...ev.notRead, ...legacyNotRead(input.iptables?.ruleset, ev, node)];
  const none = { wholeHost: false, nftCollected: ev.nftCollected, tables: [], notRead, assumptions: [] };
  if (ev.nft === undefined) return none;
  try {
    const r = traceClientNode(
      {
        ruleset: input.iptables?.ruleset,
        host: ev,
        file: input.iptables?.file ?? "",
        node,
        ...(input.iptables?.extras === undefined ? {} : { extras: input.iptables.extras }),
      },
      input.request,
    );
    return { ...(r.host ?? none), result: r.trace };
  } catch (error) {
    return { ...none, error: error instanceof Error ? error.message : String(error) };
  }
}
