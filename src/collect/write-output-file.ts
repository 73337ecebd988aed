import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";

/** Names tried for the hidden sibling before giving up (each is taken only by a rare clash). */
const TEMP_NAMES = 8;

/**
 * Writes a whole output file or nothing: the text goes to a hidden sibling that is renamed over
 * `path` (so a reader never sees half a report, and a failure leaves no partial file).
 *
 * The sibling is created exclusively (never an existing file, nor a link planted under its name), so
 * its name needs only to be unlikely to be taken, and is made without node:crypto, whose loading
 * costs every command that writes a file about 4 ms.
 *
 * @throws {CollectError} When the file cannot be written (`what` names it, e.g. "the report").
 */
export async function writeOutputFile(
  path: string,
  data: string | Uint8Array,
  options: { readonly what: string; readonly mode?: number },
): Promise<void> {
  const abs = resolve(path);
  const fail = (error: unknown) =>
    new CollectError(`Cannot write ${options.what} to "${path}": ${errorWords(error)}`, { cause: error });
  for (let attempt = 1; ; attempt++) {
    const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 2 ** 32).toString(36)}`;
    const temp = join(dirname(abs), `.${basename(abs)}.partial-${id}`);
    try {
      await writeFile(temp, data, {
        flag: "wx",
        ...(options.mode === undefined ? {} : { mode: options.mode }),
      });
    } catch (error) {
      // Taken: that file is someone else's, left alone. Any other failure leaves ours, removed.
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && attempt < TEMP_NAMES) continue;
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") await rm(temp, { force: true });
      throw fail(error);
    }
    try {
      await rename(temp, abs);
      return;
    } catch (error) {
      await rm(temp, { force: true });
      throw fail(error);
    }
  }
}
