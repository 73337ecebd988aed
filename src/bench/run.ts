/**
 * `npm run bench`: runs every `src/bench/*.bench.ts` (or those named on the command line) in turn.
 * Each bench module exports `name` and `run(): Promise<string>` returning a Markdown section
 * with its figures, so the whole output can be pasted into the README.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

interface BenchModule {
  readonly name: string;
  run(): Promise<string>;
}

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

console.log(`# netdoctor benchmarks (${new Date().toISOString()}, node ${process.version})\n`);
for (const f of files) {
  const mod = (await import(join(here, f))) as BenchModule;
  process.stderr.write(`running ${mod.name}...\n`);
  console.log(await mod.run());
}
