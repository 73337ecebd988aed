/**
 * `netdoctor trace` on an IPVS-mode node (kube-proxy's IPVS mode): the node's virtual servers from
 * `--ipvsadm FILE` or the bundle's nodes/NODE/ipvsadm.txt, with the addresses its ip-addr.json
 * shows (kube-ipvs0 binds every virtual server address); for a dump whose glue shows IPVS mode
 * without the table, packets for the node itself are undecided (ipvs-stage.ts).
 */
import { readFile } from "node:fs/promises";
import { type NodeIpvs, readNodeIpvs } from "../../collect/read-node-ipvs.ts";
import type { TraceNode } from "../../collect/read-trace-node.ts";
import type { IpvsTable } from "../../ipvs/ipvs-model.ts";
import { parseIpvsadm } from "../../ipvs/parse-ipvsadm.ts";
import type { Ruleset } from "../../model/ruleset.ts";
import { ipvsNotCollected } from "../../trace/ipvs-stage.ts";
import type { IpvsNotCollected } from "../../trace/trace-request.ts";
import { UsageError } from "../exit-codes.ts";
import type { TraceCliOptions } from "./trace-options.ts";

/** The node's IPVS evidence: `--ipvsadm FILE`, else the bundle node's files; undefined when neither. */
export async function ipvsOf(
  opts: TraceCliOptions,
  node: TraceNode | undefined,
): Promise<NodeIpvs | undefined> {
  if (opts.ipvsadm !== undefined) {
    const text = await readFile(opts.ipvsadm, "utf8").catch((error: unknown) => {
      throw new UsageError(`Cannot read --ipvsadm ${opts.ipvsadm}: ${(error as Error).message}`);
    });
    const fromBundle =
      opts.bundle === undefined || node === undefined
        ? undefined
        : await readNodeIpvs(opts.bundle, node.node);
    return { table: parseIpvsadm(text, { file: opts.ipvsadm }), addresses: fromBundle?.addresses ?? [] };
  }
  return opts.bundle === undefined || node === undefined ? undefined : readNodeIpvs(opts.bundle, node.node);
}

/**
 * The trace option: the table when given; for a dump whose glue shows IPVS mode, "not collected"
 * (naming the file next to the dump, `ipvsadm.txt`, as a bundle has it).
 */
export function ipvsOption(
  table: IpvsTable | undefined,
  ruleset: Ruleset,
  file: string,
): { ipvs?: IpvsTable | IpvsNotCollected } {
  if (table !== undefined) return { ipvs: table };
  const missing = ipvsNotCollected(ruleset, file);
  return missing === undefined ? {} : { ipvs: missing };
}
