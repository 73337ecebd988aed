import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";

/**
 * Writes a whole output file or nothing: the text goes to a hidden sibling that is renamed over
 * `path` (so a reader never sees half a report, and a failure leaves no partial file).
 *
 * @throws {CollectError} When the file cannot be written (`what` names it, e.g. "the report").
 */
export async function writeOutputFile(
  path: string,
  data: string | Uint8Array,
  options: { readonly what: string; readonly mode?: number },
): Promise<void> {
  const abs = resolve(path);
  const temp = join(dirname(abs), `.${basename(abs)}.partial-${randomBytes(4).toString("hex")}`);
  try {
    await writeFile(temp, data, options.mode === undefined ? {} : { mode: options.mode });
    await rename(temp, abs);
  } catch (error) {
    await rm(temp, { force: true });
    throw new CollectError(`Cannot write ${options.what} to "${path}": ${errorWords(error)}`, {
      cause: error,
    });
  }
}
