// The relative-import graph of src/: every .ts file and the files it imports (static imports,
// re-exports, dynamic import() with a literal path and `import("…")` type queries). Used by the
// check-*.mjs scripts; no dependencies, so it runs before anything is built.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Every file under `dir` whose name ends with `.ts`, as paths relative to `root`. */
export function tsFiles(root, dir = "src") {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(join(root, d)).sort()) {
      const rel = join(d, name);
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith(".ts")) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

const IMPORT_RE =
  /(?:^|[^\w$.])(?:import|export)\s*(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** The relative specifiers `text` imports, with the 1-based line of each. */
export function importsOf(text) {
  const out = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    const line = text.slice(0, m.index).split("\n").length + (m[0].startsWith("\n") ? 1 : 0);
    out.push({ spec, line });
  }
  return out;
}

/** Whether `file` is a test (or a bench) rather than production code. */
export function isTestFile(file) {
  return /\.test\.ts$/.test(file);
}

/** `{ file -> [{ target, line }] }` for every .ts file under src/ (targets relative to root). */
export function importGraph(root) {
  const graph = new Map();
  for (const file of tsFiles(root)) {
    const text = readFileSync(join(root, file), "utf8");
    const edges = importsOf(text).map(({ spec, line }) => ({
      target: relative(root, resolve(root, dirname(file), spec)),
      line,
    }));
    graph.set(file, edges);
  }
  return graph;
}

/** The files reachable from `roots` (inclusive). */
export function reachable(graph, roots) {
  const seen = new Set();
  const stack = [...roots];
  while (stack.length > 0) {
    const f = stack.pop();
    if (seen.has(f) || !graph.has(f)) continue;
    seen.add(f);
    for (const e of graph.get(f)) stack.push(e.target);
  }
  return seen;
}
