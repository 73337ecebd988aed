/**
 * Writes the built-in demo bundle (src/demo/incident.ts) to a directory, or to a cache directory
 * on first use so `diagnose --demo` works without any file shipped.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildBundle } from "../demo/build-bundle.ts";
import { DEMO_REVISION, incidentBundleSpec } from "../demo/incident.ts";
import { sha256 } from "../text/sha256.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import { StagedDir } from "./staged-dir.ts";

/** Writes every file of a generated bundle under `dir`. */
export async function writeBundleFiles(dir: string, files: Iterable<[string, string]>): Promise<void> {
  for (const [rel, text] of files) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
}

/**
 * Writes the demo bundle to `dir` (absent or empty) as a whole or not at all; returns the number of
 * files.
 *
 * @throws {CollectError} When `dir` exists and is not empty, is a file, or cannot be written.
 */
export async function writeDemoBundle(dir: string): Promise<number> {
  const files = buildBundle(incidentBundleSpec());
  const staged = await StagedDir.create(dir, { id: randomBytes(4).toString("hex"), what: "the demo bundle" });
  try {
    await writeBundleFiles(staged.path, files);
  } catch (error) {
    await staged.discard();
    throw new CollectError(`Cannot write the demo bundle to "${dir}": ${errorWords(error)}`, {
      cause: error,
    });
  }
  await staged.commit();
  return files.size;
}

/**
 * The demo bundle in a cache directory (`$XDG_CACHE_HOME` or the temp dir), generated on first use.
 * The directory name carries {@linkcode DEMO_REVISION}: bump it when the demo's content changes.
 */
export async function cachedDemoBundle(): Promise<string> {
  const base = process.env.XDG_CACHE_HOME ?? tmpdir();
  // The stamp hashes the demo's description, so an edited demo regenerates even if nobody bumped
  // DEMO_REVISION (which covers changes to the renderers).
  const digest = sha256(JSON.stringify(incidentBundleSpec()));
  const stamp = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const dir = join(base, `netdoctor-demo-r${DEMO_REVISION}-${stamp}`);
  try {
    await readFile(join(dir, "bundle.json"), "utf8");
    return dir;
  } catch {
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await writeBundleFiles(tmp, buildBundle(incidentBundleSpec()));
    try {
      await rename(tmp, dir);
    } catch {
      // Another process won the race: its copy is identical.
      await rm(tmp, { recursive: true, force: true });
    }
    return dir;
  }
}
