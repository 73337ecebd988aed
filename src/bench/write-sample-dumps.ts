/**
 * Writes the sample dumps of `demo/sample-dumps/` (run: `npx tsx src/bench/write-sample-dumps.ts`):
 * a healthy k3s server and agent, and an agent that leaked a few thousand duplicate rules as in
 * k3s-io/k3s#3117. The output is deterministic, so re-running it changes nothing.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateDump } from "./generate-dump.ts";

const dir = resolve("demo/sample-dumps");
mkdirSync(dir, { recursive: true });
const samples = [
  { file: "k3s-server.txt", options: { services: 24, backend: "nf_tables" as const } },
  { file: "k3s-agent1.txt", options: { services: 24, backend: "nf_tables" as const } },
  { file: "k3s-agent2.txt", options: { services: 24, duplicates: 2400, backend: "nf_tables" as const } },
];
for (const s of samples) {
  writeFileSync(join(dir, s.file), [...generateDump(s.options)].join(""));
  process.stdout.write(`wrote ${join(dir, s.file)}\n`);
}
