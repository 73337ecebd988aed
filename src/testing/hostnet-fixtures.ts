/** Real captured evidence for the src/hostnet tests (written by overlay-lab-capture.ts). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The root of the captures, relative to the repository (tests run from it). */
export const HOSTNET_TESTDATA = "testdata/hostnet";

/** Text of a captured file, e.g. `fixtureText("variety/ip-route.json")`. */
export function fixtureText(rel: string): string {
  return readFileSync(join(HOSTNET_TESTDATA, rel), "utf8");
}

/** Directory of a captured lab bundle, e.g. `labBundleDir("healthy")`. */
export function labBundleDir(name: string): string {
  return join(HOSTNET_TESTDATA, "lab", name);
}

/**
 * The host files of one node of a captured lab bundle, by file name, with optional edits (return
 * undefined from an edit to leave a file out).
 */
export function labHostFiles(
  name: string,
  node: string,
  edits: Readonly<Record<string, (text: string) => string | undefined>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of readdirSync(join(labBundleDir(name), "nodes", node))) {
    const text = readFileSync(join(labBundleDir(name), "nodes", node, file), "utf8");
    const edit = edits[file];
    const v = edit === undefined ? text : edit(text);
    if (v !== undefined) out[file] = v;
  }
  return out;
}

/** Edits the items of a JSON array file (`ip -j` output): map each item, drop it with undefined. */
export function editJsonItems(
  map: (item: Record<string, unknown>) => Record<string, unknown> | undefined,
): (text: string) => string {
  return (text) =>
    JSON.stringify(
      (JSON.parse(text) as Record<string, unknown>[])
        .map(map)
        .filter((x): x is Record<string, unknown> => x !== undefined),
    );
}
