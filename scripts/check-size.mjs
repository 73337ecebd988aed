// House limits of src/ (issue 18): no file over 300 lines, no function over 80 lines. Tests
// (*.test.ts) are outside the limits; so is generated data, listed below with the reason.
// Functions are found with the TypeScript parser: declarations, methods, constructors, accessors,
// function expressions and arrow functions; a function's lines run from its first to its last line
// (a nested function counts in its parent too).
//
//   node scripts/check-size.mjs            report the violations, exit 0
//   node scripts/check-size.mjs --strict   exit 1 when there is any

import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { isTestFile, tsFiles } from "./import-graph.mjs";

export const MAX_FILE_LINES = 300;
export const MAX_FUNCTION_LINES = 80;

/** Files outside the limits, each with the reason. Generated data only: code is never exempt. */
export const EXEMPT = new Map([
  // (none yet)
]);

/** Lines of `text` as an editor numbers them (a final newline does not start a line). */
export function lineCount(text) {
  if (text === "") return 0;
  const n = text.split("\n").length;
  return text.endsWith("\n") ? n - 1 : n;
}

function functionName(node, sf) {
  if (node.name !== undefined) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (parent !== undefined) {
    if (
      ts.isVariableDeclaration(parent) ||
      ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent)
    )
      return parent.name.getText(sf);
    if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(sf).slice(0, 40)})`;
  }
  return "(anonymous)";
}

/** The functions of one file longer than `max` lines, as `{ name, line, lines }`. */
export function longFunctions(text, file, max = MAX_FUNCTION_LINES) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      if (last - first + 1 > max)
        out.push({ name: functionName(node, sf), line: first, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every violation under `root`/src, as `{ file, line, kind, lines, name? }`. */
export function sizeViolations(root) {
  const out = [];
  for (const file of tsFiles(root)) {
    if (isTestFile(file) || EXEMPT.has(file)) continue;
    const text = readFileSync(join(root, file), "utf8");
    const lines = lineCount(text);
    if (lines > MAX_FILE_LINES) out.push({ file, line: 1, kind: "file", lines });
    for (const f of longFunctions(text, file))
      out.push({ file, line: f.line, kind: "function", lines: f.lines, name: f.name });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const strict = process.argv.includes("--strict");
  const violations = sizeViolations(process.cwd());
  for (const v of violations) {
    console.log(
      v.kind === "file"
        ? `${v.file}: ${v.lines} lines (at most ${MAX_FILE_LINES})`
        : `${v.file}:${v.line}: function ${v.name} has ${v.lines} lines (at most ${MAX_FUNCTION_LINES})`,
    );
  }
  const files = violations.filter((v) => v.kind === "file").length;
  const fns = violations.length - files;
  console.log(
    `check-size: ${files} file${files === 1 ? "" : "s"} over ${MAX_FILE_LINES} lines, ${fns} function${fns === 1 ? "" : "s"} over ${MAX_FUNCTION_LINES} lines${strict || violations.length === 0 ? "" : " (report only; --strict fails on them)"}`,
  );
  process.exitCode = strict && violations.length > 0 ? 1 : 0;
}
