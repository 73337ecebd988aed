// Bundles the CLI into one executable ESM file: dist/netdoctor.mjs.
import { build } from "esbuild";
import { chmodSync } from "node:fs";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/netdoctor.mjs",
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
