// Finds the files under src/ that no entry point reaches: not reachable from the CLI
// (src/cli/main.ts) or the library (src/index.ts), outside src/testing/ and src/bench/, and not a
// test. Each is a test fixture or helper (it belongs in src/testing/ or beside its tests, issue 18),
// production code not wired in yet, or dead code. Files only the benchmarks reach are listed apart
// (the bench is a tool of its own; its data generators may live in demo/ or bench/).
//
//   node scripts/check-test-only.mjs            report, exit 0
//   node scripts/check-test-only.mjs --strict   exit 1 when a file is unreached and not listed below

import { existsSync } from "node:fs";
import { importGraph, isTestFile, reachable } from "./import-graph.mjs";

/** Production code written ahead of its wiring, by folder or file, with the reason. */
export const NOT_YET_WIRED = new Map([
  [
    "src/kube-proxy/ipvs/ipvs-mode.ts",
    "IPVS mode from a parsed ruleset; diagnose decides the mode with kube-proxy/proxy-mode.ts",
  ],
  [
    "src/nft/",
    "nftables evidence: libnftables JSON, nft -a text, the evaluator (issue 14); trace and diagnose wire it in",
  ],
  ["src/kube-proxy/nftables/", "kube-proxy nftables-mode reconciliation (issue 14); diagnose wires it in"],
  [
    "src/server/exporter-heap-probe.ts",
    "run as its own process by server/exporter.test.ts (beside its test)",
  ],
]);

const listed = (f) => [...NOT_YET_WIRED.keys()].some((k) => (k.endsWith("/") ? f.startsWith(k) : f === k));

const root = process.cwd();
const strict = process.argv.includes("--strict");
const graph = importGraph(root);
const files = [...graph.keys()];
const prod = reachable(
  graph,
  ["src/cli/main.ts", "src/index.ts"].filter((f) => existsSync(f)),
);
const bench = reachable(
  graph,
  files.filter((f) => f.startsWith("src/bench/")),
);
const unreached = files.filter(
  (f) => !prod.has(f) && !isTestFile(f) && !f.startsWith("src/testing/") && !f.startsWith("src/bench/"),
);
const benchOnly = unreached.filter((f) => bench.has(f));
const wiredLater = unreached.filter((f) => !bench.has(f) && listed(f));
const unexplained = unreached.filter((f) => !bench.has(f) && !listed(f));

const section = (title, list) => {
  console.log(`${title}: ${list.length}`);
  for (const f of list) console.log(`  ${f}`);
};
section(
  "unreached from the CLI and the library, not explained (move test-only code to src/testing/)",
  unexplained,
);
section("reached only from the benchmarks", benchOnly);
console.log(`not wired in yet (listed in NOT_YET_WIRED with the reason): ${wiredLater.length} files`);
console.log(
  `check-test-only: ${unexplained.length} unexplained${strict || unexplained.length === 0 ? "" : " (report only; --strict fails on them)"}`,
);
process.exitCode = strict && unexplained.length > 0 ? 1 : 0;
