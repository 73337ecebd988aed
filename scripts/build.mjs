// Bundles the CLI into dist/, so that a command loads one file of its own code and only the libraries
// it uses (scan must not pay for the Kubernetes client's start-up):
//   dist/netdoctor.mjs                 the entry: commander, and which command to load
//   dist/commands/NAME/NAME.mjs        each command's own code in one module, built on its own, with
//                                      chunks beside it for what it loads on demand
//   dist/vendor/PACKAGE.mjs            each npm library, once, shared by the commands
// One bundle for all commands (esbuild's splitting) cut the code every two commands share into its
// own chunk: `scan` loaded 19 modules, about 10 ms of start-up more than one module of the same code.
// Only one command runs in a process (help loads all of them, to list them): each has its own copy of
// the code it shares with others. The libraries are one copy: commander's objects pass between the
// entry and the commands.
// It also writes the API-list worker, dist/read-lists-worker.mjs (scripts/build-list-worker.mjs).

import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
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

/**
 * The npm libraries bundled each into dist/vendor/, and what of each: everything it exports, or the
 * names the CLI imports (the Kubernetes client whole is 14 MB, the parts of it these use 4.5 MB). A
 * name imported but not listed fails the build (see `vendored`). ssh2 and its helpers stay outside,
 * in node_modules.
 */
const VENDOR = {
  commander: "all",
  yaml: "all",
  fflate: "all",
  "prom-client": "all",
  "@kubernetes/client-node": ["ApiException", "CoreV1Api", "KubeConfig"],
};
const EXTERNAL = ["ssh2", "cpu-features", "playwright-core"];
const vendorFile = (pkg) => `${pkg.replace(/^@/, "").replaceAll("/", "-")}.mjs`;

/** The names a vendor file exports: as listed, or every name the library exports as Node imports it. */
async function exportsOf(pkg) {
  const listed = VENDOR[pkg];
  if (listed !== "all") return listed;
  return Object.keys(await import(pkg))
    .filter((name) => name !== "default")
    .sort();
}
const names = new Map(await Promise.all(Object.keys(VENDOR).map(async (pkg) => [pkg, await exportsOf(pkg)])));

/**
 * Own code's imports of a library go to its vendor file, `dir` being the way there from the output.
 * They pass through a module that re-exports the library's names from that file, so that esbuild
 * still checks every imported name at build time, as it did against the library itself.
 */
function vendored(dir) {
  const filter = new RegExp(
    `^(${Object.keys(VENDOR)
      .map((p) => p.replace(/[/.-]/g, "\\$&"))
      .join("|")})$`,
  );
  return {
    name: "vendored",
    setup(b) {
      b.onResolve({ filter }, (args) =>
        args.namespace === "vendored"
          ? { path: `${dir}${vendorFile(args.path)}`, external: true }
          : { path: args.path, namespace: "vendored" },
      );
      b.onLoad({ filter: /.*/, namespace: "vendored" }, (args) => ({
        contents: `export { ${names.get(args.path).join(", ")} } from ${JSON.stringify(args.path)};`,
        loader: "js",
      }));
    },
  };
}

/** The entry's imports of src/cli/commands/NAME.ts load dist/commands/NAME/NAME.mjs; their names. */
const commands = [];
const commandFiles = {
  name: "command-files",
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[a-z-]+\.ts$/ }, (args) => {
      if (!args.importer.endsWith(join("src", "cli", "main.ts"))) return undefined;
      const name = args.path.slice("./commands/".length, -".ts".length);
      commands.push(name);
      return { path: `./commands/${name}/${name}.mjs`, external: true };
    });
  },
};

const common = {
  ...NODE_ESM,
  external: EXTERNAL,
  banner: {
    js: "import { createRequire as __ndCreateRequire } from 'node:module';\nconst require = __ndCreateRequire(import.meta.url);",
  },
  define: { __NETDOCTOR_BUILD__: JSON.stringify(buildInfo) },
};

rmSync(outdir, { recursive: true, force: true });
await Promise.all(
  Object.keys(VENDOR).map((pkg) =>
    build({
      ...common,
      stdin: {
        contents: `export { ${names.get(pkg).join(", ")} } from ${JSON.stringify(pkg)};`,
        resolveDir: process.cwd(),
        loader: "js",
        sourcefile: `vendor-${vendorFile(pkg)}`,
      },
      outfile: join(outdir, "vendor", vendorFile(pkg)),
      plugins: [lazyChildProcess],
    }),
  ),
);
await build({
  ...common,
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
  entryPoints: { netdoctor: "src/cli/main.ts" },
  outdir,
  plugins: [vendored("./vendor/"), commandFiles],
});
await Promise.all(
  commands.map((name) =>
    build({
      ...common,
      entryPoints: { [name]: `src/cli/commands/${name}.ts` },
      outdir: join(outdir, "commands", name),
      splitting: true,
      chunkNames: "[name]-[hash]",
      plugins: [vendored("../../vendor/")],
    }),
  ),
);
chmodSync(`${outdir}/netdoctor.mjs`, 0o755);
await buildListWorker(outdir);
