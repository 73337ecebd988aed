// Bundles the CLI into dist/: the entry dist/netdoctor.mjs plus one chunk per command, so a command
// loads only the libraries it uses (scan must not pay for the Kubernetes client's start-up); then the
// library entry dist/index.mjs with its declarations in dist/types/.

import { execFileSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
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

// The library entry (package.json "exports"): src/index.ts as one ESM file. Its dependencies stay
// imports (npm installs them with the package); declarations come from tsc into dist/types.
await build({
  entryPoints: { index: "src/index.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
execFileSync(
  process.execPath,
  [join("node_modules", "typescript", "bin", "tsc"), "-p", "scripts/tsconfig.types.json"],
  {
    stdio: "inherit",
  },
);
