/**
 * Writes the built-in demo bundle (src/demo/incident.ts) to a directory, or to a cache directory
 * on first use so `diagnose --demo` works without any file shipped.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildBundle } from "../demo/build-bundle.ts";
import { DEMO_REVISION, incidentBundleSpec } from "../demo/incident.ts";
import { sha256 } from "../text/sha256.ts";

/** Writes every file of a generated bundle under `dir`. */
export async function writeBundleFiles(dir: string, files: Iterable<[string, string]>): Promise<void> {
  for (const [rel, text] of files) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
}

/** Writes the demo bundle to `dir`; returns the number of files. */
export async function writeDemoBundle(dir: string): Promise<number> {
  const files = buildBundle(incidentBundleSpec());
  await writeBundleFiles(dir, files);
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
    await writeDemoBundle(tmp);
    try {
      await rename(tmp, dir);
    } catch {
      // Another process won the race: its copy is identical.
      await rm(tmp, { recursive: true, force: true });
    }
    return dir;
  }
}
