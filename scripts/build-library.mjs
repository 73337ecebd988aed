// Builds the library entry (package.json "exports"): src/index.ts as one ESM file, dist/index.mjs,
// whose dependencies stay imports (it uses none but Node's), and its declarations in dist/types/
// from tsc. `npm run build` runs it after scripts/build.mjs (which empties dist/); `--outdir DIR`
// builds into DIR instead. Either build writes the API-list worker, dist/read-lists-worker.mjs.

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";
import { buildListWorker, NODE_ESM } from "./build-list-worker.mjs";

const at = process.argv.indexOf("--outdir");
const outdir = at === -1 ? "dist" : process.argv[at + 1];
if (!outdir) throw new Error("Cannot build the library: --outdir needs a directory");

await build({
  ...NODE_ESM,
  entryPoints: { index: "src/index.ts" },
  outdir,
  packages: "external",
});
await buildListWorker(outdir);
execFileSync(
  process.execPath,
  [
    join("node_modules", "typescript", "bin", "tsc"),
    "-p",
    join("scripts", "tsconfig.types.json"),
    "--outDir",
    join(outdir, "types"),
  ],
  { stdio: "inherit" },
);
