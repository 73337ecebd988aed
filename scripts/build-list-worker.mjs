// Builds the API-list worker (src/collect/read-lists-worker.ts) as dist/read-lists-worker.mjs, one
// file with no chunks: the CLI's commands (in dist/commands/NAME/) and the library's (dist/index.mjs) both find
// it there (src/collect/read-lists.ts). Both builds call this, so either one alone ships it.

import { build } from "esbuild";

/** What every build of this project shares: one ES module per entry for Node 20, no source maps. */
export const NODE_ESM = {
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
};

/** Writes OUTDIR/read-lists-worker.mjs. */
export async function buildListWorker(outdir) {
  await build({
    ...NODE_ESM,
    entryPoints: { "read-lists-worker": "src/collect/read-lists-worker.ts" },
    outdir,
  });
}
