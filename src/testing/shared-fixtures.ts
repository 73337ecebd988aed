/**
 * The team's shared fixtures (`../shared/fixtures/...` from the repository root). They are read in
 * place, never copied into the project; tests skip with the reason when they are absent.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The kube-proxy fixtures directory, resolved from the working directory (the repository root). */
export const KUBE_PROXY_FIXTURES = resolve(process.cwd(), "../shared/fixtures/kube-proxy");

/** Why the shared fixtures cannot be read, or undefined when they can. */
export function sharedFixturesUnavailable(): string | undefined {
  return existsSync(KUBE_PROXY_FIXTURES) ? undefined : `${KUBE_PROXY_FIXTURES} is absent`;
}

export interface FixtureFile {
  /** Path relative to the kube-proxy fixtures directory, e.g. `normalized/nft-v1.21ish-...save.txt`. */
  readonly name: string;
  readonly text: string;
}

/** Every `.txt` file of the kube-proxy fixtures and its `normalized/` folder, sorted by name. */
export function kubeProxyFixtures(): FixtureFile[] {
  const out: FixtureFile[] = [];
  for (const dir of ["", "normalized"]) {
    const abs = join(KUBE_PROXY_FIXTURES, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs).sort()) {
      if (!f.endsWith(".txt")) continue;
      const name = dir === "" ? f : `${dir}/${f}`;
      out.push({ name, text: readFileSync(join(abs, f), "utf8") });
    }
  }
  return out;
}

/**
 * True (after printing why) when the shared fixtures are absent. Unlike a missing machine capability
 * this never fails under CI: the fixtures live outside the repository by design, so a clone on its own
 * is a legitimate place to run the tests.
 */
export function skipWithoutSharedFixtures(what: string): boolean {
  const reason = sharedFixturesUnavailable();
  if (reason === undefined) return false;
  console.warn(`SKIP ${what}: ${reason}`);
  return true;
}
