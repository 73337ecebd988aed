// Builds the API-list worker (src/collect/read-lists-worker.ts) as dist/read-lists-worker.mjs, one
// file with no chunks: the CLI's code (in dist/chunks/) and the library's (dist/index.mjs) both find
// it there (src/collect/read-lists.ts). Both builds call this, so either one alone ships it.

import { build } from "esbuild";

/** Writes OUTDIR/read-lists-worker.mjs. */
export async function buildListWorker(outdir) {
  await build({
    entryPoints: { "read-lists-worker": "src/collect/read-lists-worker.ts" },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
  });
}
