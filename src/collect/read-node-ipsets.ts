/**
 * Reads a node's `ipset save` output (`nodes/NODE/ipset-save.txt`, docs/bundle.md) for the tracer
 * and the NetworkPolicy link: `-m set --match-set` rules are decided from it. Absent is undefined
 * (those rules stay undecided, needing `ipset-members`); unreadable is a {@linkcode CollectError}.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { IpsetSave } from "../ipset/ipset-model.ts";
import { parseIpsetSave } from "../ipset/parse-ipset-save.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords, hasCode } from "./errno-words.ts";

/** The file name of a node's ipsets in a bundle. */
export const IPSET_SAVE_FILE = "ipset-save.txt";

/**
 * Parses the ipset save at `path`, naming it `file` in evidence; undefined when it does not exist.
 * @throws {CollectError} When the file exists but cannot be read.
 */
export async function readIpsetFile(path: string, file: string): Promise<IpsetSave | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (hasCode(error, "ENOENT")) return undefined;
    throw new CollectError(`Cannot read ${file}: ${errorWords(error)}`, { cause: error });
  }
  return parseIpsetSave(text, { file });
}

/**
 * A bundle node's ipsets (`nodes/NODE/ipset-save.txt`), or undefined when the bundle has none.
 *
 * @example
 * ```ts
 * const sets = await readNodeIpsets("bundle/", "node1"); // sets?.file === "nodes/node1/ipset-save.txt"
 * ```
 */
export async function readNodeIpsets(dir: string, node: string): Promise<IpsetSave | undefined> {
  const file = `nodes/${node}/${IPSET_SAVE_FILE}`;
  return readIpsetFile(join(dir, file), file);
}
