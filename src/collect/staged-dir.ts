/**
 * An output directory written as a whole or not at all: the files go to a hidden sibling
 * (`.NAME.partial-ID`, same parent, so the final rename is atomic) that becomes `NAME` at the end or
 * is removed on failure. A retry after a failure or Ctrl-C finds nothing half-written in its way.
 */
import { rmSync } from "node:fs";
import { chmod, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CollectError } from "./collect-error.ts";
import { errorWords, hasCode } from "./errno-words.ts";

/** The temporary sibling `out` is written into before it is renamed. */
export function stagingDirFor(out: string, id: string): string {
  const abs = resolve(out);
  return join(dirname(abs), `.${basename(abs)}.partial-${id}`);
}

/**
 * Checks that `out` can be written (absent, or an empty directory) before any work starts.
 *
 * @throws {CollectError} When `out` is a file, a non-empty directory, or its parent is missing.
 */
export async function checkOutDir(out: string, what: string): Promise<void> {
  try {
    const st = await stat(out);
    if (!st.isDirectory())
      throw new CollectError(`Cannot write ${what} to "${out}": it is a file, not a directory`);
    if ((await readdir(out)).length > 0) {
      throw new CollectError(
        `Cannot write ${what} to "${out}": the directory is not empty (pick a new directory, or remove it)`,
      );
    }
  } catch (error) {
    if (error instanceof CollectError) throw error;
    if (!hasCode(error, "ENOENT"))
      throw new CollectError(`Cannot write ${what} to "${out}": ${errorWords(error)}`, { cause: error });
  }
  const parent = dirname(resolve(out));
  try {
    if (!(await stat(parent)).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
  } catch (error) {
    throw new CollectError(
      `Cannot write ${what} to "${out}": its parent directory ${parent}: ${errorWords(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** A directory being written: {@linkcode StagedDir.commit} publishes it, {@linkcode StagedDir.discard} drops it. */
export class StagedDir {
  /** Where the files are written until the commit. */
  readonly path: string;
  readonly out: string;
  #open = true;

  private constructor(out: string, path: string) {
    this.out = out;
    this.path = path;
  }

  /**
   * Checks `out` ({@linkcode checkOutDir}) and creates its staging sibling with `mode`.
   *
   * @throws {CollectError} When `out` cannot be written.
   */
  static async create(out: string, options: { id: string; what: string; mode?: number }): Promise<StagedDir> {
    await checkOutDir(out, options.what);
    const path = stagingDirFor(out, options.id);
    try {
      await mkdir(path, { mode: options.mode ?? 0o755 });
      if (options.mode !== undefined) await chmod(path, options.mode);
    } catch (error) {
      throw new CollectError(`Cannot write ${options.what} to "${out}": ${errorWords(error)}`, {
        cause: error,
      });
    }
    return new StagedDir(out, path);
  }

  /** Renames the staging directory to `out` (an empty `out` is replaced). */
  async commit(): Promise<void> {
    try {
      await rename(this.path, this.out);
      this.#open = false;
    } catch (error) {
      await this.discard();
      const why =
        hasCode(error, "ENOTEMPTY") || hasCode(error, "EEXIST")
          ? "something was written there meanwhile"
          : errorWords(error);
      throw new CollectError(`Cannot move the finished bundle to "${this.out}": ${why}`, { cause: error });
    }
  }

  /** Removes the staging directory and everything in it (nothing when already committed). */
  async discard(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await rm(this.path, { recursive: true, force: true });
  }

  /** {@linkcode StagedDir.discard} for an exit handler, which cannot wait. */
  discardNow(): void {
    if (!this.#open) return;
    this.#open = false;
    rmSync(this.path, { recursive: true, force: true });
  }
}
