// Bundles the CLI into dist/: the entry dist/netdoctor.mjs plus one chunk per command, so a command
// loads only the libraries it uses (scan must not pay for the Kubernetes client's start-up).
// It also writes the API-list worker, dist/read-lists-worker.mjs (scripts/build-list-worker.mjs).

import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { buildListWorker, NODE_ESM } from "./build-list-worker.mjs";

/** `git` in this directory, or undefined without git or outside a repository (a source tarball). */
function git(...args) {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

// What `netdoctor --version` prints (src/cli/version.ts). NETDOCTOR_COMMIT names the commit where git
// is absent (e.g. a build from a tarball); SOURCE_DATE_EPOCH makes the date reproducible.
const commit = process.env.NETDOCTOR_COMMIT || git("rev-parse", "--short", "HEAD") || "unknown";
const modified =
  !process.env.NETDOCTOR_COMMIT && (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "";
const epoch = process.env.SOURCE_DATE_EPOCH;
const date = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
const buildInfo = {
  version: JSON.parse(readFileSync("package.json", "utf8")).version,
  commit,
  modified,
  date,
};

// `--outdir DIR` builds elsewhere (the version test builds into a temp dir); the default is dist/.
const at = process.argv.indexOf("--outdir");
const outdir = at === -1 ? "dist" : process.argv[at + 1];
if (!outdir) throw new Error("Cannot build: --outdir needs a directory");

// commander requires node:child_process at load for executable subcommands, which netdoctor has
// none of; loading it (with net and dgram) costs every command about 3 ms. Its one use, spawn, is
// given the real module on first call.
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: "child_process", namespace: "lazy-child-process" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
      contents: 'exports.spawn = (...args) => process.getBuiltinModule("node:child_process").spawn(...args);',
      loader: "js",
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  ...NODE_ESM,
  entryPoints: { netdoctor: "src/cli/main.ts" },
  outdir,
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  // ssh2 loads optional native addons; keep it (and its helpers) out of the bundle.
  external: ["ssh2", "cpu-features", "playwright-core"],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __ndCreateRequire } from 'node:module';\nconst require = __ndCreateRequire(import.meta.url);",
  },
  define: { __NETDOCTOR_BUILD__: JSON.stringify(buildInfo) },
  plugins: [lazyChildProcess],
});
chmodSync(`${outdir}/netdoctor.mjs`, 0o755);
await buildListWorker(outdir);
