// The layering rule of src/ (issue 18): folders in data-flow order, and a module imports only
// modules of its own folder or of folders above it in that order. Also: demo/ depends only on
// model/ and text/ (it generates the evidence the diagnosis is tested with, so it must not share
// the diagnosis' code), only the demo command and the --demo bundle writer import demo/, and CLI
// commands do not import each other (a command parses flags and calls one library function).
// Tests (*.test.ts) may import anything.
//
//   node scripts/check-layers.mjs            report the violations, exit 0
//   node scripts/check-layers.mjs --strict   exit 1 when there is any

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importGraph, isTestFile } from "./import-graph.mjs";

/** Folders of src/ in data-flow order (docs/architecture.md); one line = one rank. */
export const LAYERS = [
  ["model"],
  ["text"],
  ["net"],
  ["findings"],
  ["parse"],
  ["nft", "ipset", "ipvs", "hostnet"],
  ["scan"],
  ["known-bugs"],
  ["kube-proxy"],
  ["netpol"],
  ["trace"],
  ["config"],
  ["diagnose"],
  ["fix"],
  ["demo"],
  ["report"],
  // The edges: all I/O lives here, and src/index.ts (the library entry) re-exports from every layer.
  ["collect", "cli", "server", "bench", "testing", "index.ts"],
];

/** What demo/ may import besides itself: the model, and text/'s sha256 for stable uids and chain hashes. */
const DEMO_MAY_IMPORT = new Set(["model", "text"]);
/** The production modules that may import demo/: the `demo` command and the `--demo` bundle writer. */
const DEMO_IMPORTERS = new Set(["src/cli/commands/demo.ts", "src/collect/demo-bundle.ts"]);
/** Folders whose every module may import demo/: tools that are not part of the shipped program. */
const DEMO_IMPORTER_FOLDERS = new Set(["bench", "testing"]);

const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i])));

/** The top folder of a src/ path (`src/kube-proxy/ipvs/x.ts` → `kube-proxy`; `src/index.ts` → `index.ts`). */
export function folderOf(file) {
  return file.split("/")[1];
}

/** Whether `file` is a CLI command (a module of cli/commands/ that registers one). */
function isCommand(root, file) {
  if (!/^src\/cli\/commands\/[^/]+\.ts$/.test(file) || isTestFile(file)) return false;
  return /export function register[A-Z]/.test(readFileSync(join(root, file), "utf8"));
}

/** Every violation of the rules above in `graph`, as `{ file, line, target, rule, message }`. */
export function layerViolations(root, graph) {
  const out = [];
  for (const [file, edges] of graph) {
    if (isTestFile(file)) continue;
    const from = folderOf(file);
    for (const { target, line } of edges) {
      const to = folderOf(target);
      if (to === from) {
        if (isCommand(root, file) && isCommand(root, target)) {
          out.push({
            file,
            line,
            target,
            rule: "cli-commands",
            message: "a CLI command imports another command",
          });
        }
        continue;
      }
      if (!rank.has(from) || !rank.has(to)) {
        out.push({ file, line, target, rule: "unknown-folder", message: `add ${from}/ or ${to}/ to LAYERS` });
        continue;
      }
      if (rank.get(to) > rank.get(from)) {
        out.push({
          file,
          line,
          target,
          rule: "layer",
          message: `${to}/ is below ${from}/ in the data flow`,
        });
      }
      if (from === "demo" && !DEMO_MAY_IMPORT.has(to)) {
        out.push({ file, line, target, rule: "demo", message: "demo/ depends only on model/ and text/" });
      }
      if (to === "demo" && !DEMO_IMPORTERS.has(file) && !DEMO_IMPORTER_FOLDERS.has(from)) {
        out.push({
          file,
          line,
          target,
          rule: "demo",
          message: "only the demo command and the --demo bundle writer import demo/",
        });
      }
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const strict = process.argv.includes("--strict");
  const violations = layerViolations(process.cwd(), importGraph(process.cwd()));
  for (const v of violations) console.log(`${v.file}:${v.line}: imports ${v.target}: ${v.message}`);
  const files = new Set(violations.map((v) => v.file)).size;
  console.log(
    `check-layers: ${violations.length} violation${violations.length === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}${strict || violations.length === 0 ? "" : " (report only; --strict fails on them)"}`,
  );
  process.exitCode = strict && violations.length > 0 ? 1 : 0;
}
