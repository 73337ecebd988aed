// Bundles the CLI into dist/: the entry dist/netdoctor.mjs plus one chunk per command, so a command
// loads only the libraries it uses (scan must not pay for the Kubernetes client's start-up).

import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: { netdoctor: "src/cli/main.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: false,
  legalComments: "none",
  // ssh2 loads optional native addons; keep it (and its helpers) out of the bundle.
  external: ["ssh2", "cpu-features", "playwright-core"],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __ndCreateRequire } from 'node:module';\nconst require = __ndCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
chmodSync("dist/netdoctor.mjs", 0o755);
