/**
 * What tracing through an IPVS-mode node needs from a bundle: its IPVS table
 * (`nodes/NODE/ipvsadm.txt`, `ipvsadm -Sn`) and its own addresses from `nodes/NODE/ip-addr.json`,
 * where kube-proxy binds every virtual server address (kube-ipvs0): only a packet for an address of
 * the node reaches IPVS. Absent ipvsadm.txt is undefined (the node is not traced as IPVS).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseIpAddr } from "../hostnet/ip-addr.ts";
import type { IpvsTable } from "../ipvs/ipvs-model.ts";
import { parseIpvsadm } from "../ipvs/parse-ipvsadm.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords, hasCode } from "./errno-words.ts";

/** A node's IPVS table and the addresses its ip-addr.json shows (empty when that file is absent). */
export interface NodeIpvs {
  readonly table: IpvsTable;
  readonly addresses: readonly { readonly address: string; readonly source: string }[];
}

async function optional(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, file), "utf8");
  } catch (error) {
    if (hasCode(error, "ENOENT")) return undefined;
    throw new CollectError(`Cannot read ${file}: ${errorWords(error)}`, { cause: error });
  }
}

/**
 * Reads a bundle node's IPVS evidence.
 *
 * @example
 * ```ts
 * const ipvs = await readNodeIpvs("bundle/", "node1"); // ipvs?.table.services.length
 * ```
 * @throws {CollectError} When a file exists but cannot be read.
 */
export async function readNodeIpvs(dir: string, node: string): Promise<NodeIpvs | undefined> {
  const file = `nodes/${node}/ipvsadm.txt`;
  const text = await optional(dir, file);
  if (text === undefined) return undefined;
  const addrFile = `nodes/${node}/ip-addr.json`;
  const addrText = await optional(dir, addrFile);
  let addresses: NodeIpvs["addresses"] = [];
  if (addrText !== undefined) {
    try {
      addresses = parseIpAddr(addrText, { file: addrFile }).interfaces.flatMap((i) =>
        i.addresses.filter((a) => a.family === "inet").map((a) => ({ address: a.local, source: addrFile })),
      );
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return { table: parseIpvsadm(text, { file }), addresses };
}
