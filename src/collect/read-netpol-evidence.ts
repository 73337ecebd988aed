/**
 * Reads what the network-policy link needs from a bundle (docs/bundle.md): the NetworkPolicy and
 * Namespace lists, and for each node the connection meets (the client's, the endpoint pods') its
 * iptables dump and `ipset save`. Node dumps are read only when policies exist; a dump already
 * parsed for the trace is reused. Nothing here throws for a missing or bad file: the link says what
 * is missing.
 */
import { join } from "node:path";
import type { NetpolEvidence, NetpolNodeEvidence } from "../diagnose/netpol-evidence.ts";
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { CollectError } from "./collect-error.ts";
import { readDump } from "./read-dump.ts";
import { readNetworkPolicyState } from "./read-network-policies.ts";
import { IPSET_SAVE_FILE, readNodeIpsets } from "./read-node-ipsets.ts";

/** A node's dump and ipsets already read by the caller (the client node's, for the trace). */
export interface ReadNodeParts {
  readonly ruleset?: Ruleset;
  readonly ipsets?: IpsetSave;
}

async function rulesOf(path: string): Promise<Ruleset | undefined> {
  try {
    return await readDump(path, { lazy: true });
  } catch (error) {
    if (error instanceof CollectError || error instanceof DumpSyntaxError) return undefined;
    throw error;
  }
}

/** A node's ipsets; an unreadable file counts as absent (the link then asks for it). */
export async function ipsetsOf(dir: string, node: string): Promise<IpsetSave | undefined> {
  try {
    return await readNodeIpsets(dir, node);
  } catch (error) {
    if (error instanceof CollectError) return undefined;
    throw error;
  }
}

/**
 * The NetworkPolicy evidence of the bundle at `dir` for the connection's `nodes`.
 *
 * @example
 * ```ts
 * const ev = await readNetpolEvidence("bundle/", { nodes: builder.policyNodes, nodeDirs: bundle.nodeDirs });
 * const diagnosis = builder.finish(ev);
 * ```
 */
export async function readNetpolEvidence(
  dir: string,
  options: {
    readonly nodes: readonly string[];
    readonly nodeDirs: readonly string[];
    readonly known?: ReadonlyMap<string, ReadNodeParts>;
    /** The policy lists when the caller has read them already. */
    readonly policy?: Awaited<ReturnType<typeof readNetworkPolicyState>>;
  },
): Promise<NetpolEvidence> {
  const { state, problems } = options.policy ?? (await readNetworkPolicyState(dir));
  const nodes = new Map<string, NetpolNodeEvidence>();
  if ((state.policies?.length ?? 0) > 0) {
    for (const node of options.nodes) {
      if (!options.nodeDirs.includes(node)) continue;
      const file = `nodes/${node}/iptables-save.txt`;
      const known = options.known?.get(node);
      const ruleset = known?.ruleset ?? (await rulesOf(join(dir, file)));
      const ipsets = known?.ipsets ?? (await ipsetsOf(dir, node));
      nodes.set(node, {
        node,
        file,
        ipsetFile: `nodes/${node}/${IPSET_SAVE_FILE}`,
        ...(ruleset === undefined ? {} : { ruleset }),
        ...(ipsets === undefined ? {} : { ipsets }),
      });
    }
  }
  return { state, problems, nodes };
}
