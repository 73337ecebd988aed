/** Real captured evidence for the src/hostnet tests (written by overlay-lab-capture.ts). */
import { readFileSync } from "node:fs";
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
