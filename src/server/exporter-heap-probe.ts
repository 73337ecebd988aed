/**
 * Test helper, run as its own process (`node --expose-gc --import tsx exporter-heap-probe.ts DUMP N...`):
 * runs an exporter with a 1 ms interval on `cat DUMP` and prints, as JSON, the heap in use after a full
 * GC once N samples have finished, for each N. A process of its own keeps the test runner's
 * allocations out of the figures.
 */
import { startExporter } from "./exporter.ts";

const [dump, ...marks] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (dump === undefined || marks.length === 0 || gc === undefined) {
  process.stderr.write("usage: node --expose-gc --import tsx exporter-heap-probe.ts DUMP N [N...]\n");
  process.exit(2);
}
const e = await startExporter({
  host: "127.0.0.1",
  port: 0,
  node: "probe",
  commands: { save: `cat '${dump}'` },
  intervalMs: 1,
  timeoutMs: 10_000,
  log: () => {},
});
const heap: Record<string, number> = {};
for (const mark of marks.map(Number)) {
  while (e.sampler.stats.samples < mark) await new Promise((r) => setTimeout(r, 10));
  await (await fetch(`${e.url}/metrics`)).text();
  gc();
  gc();
  heap[mark] = process.memoryUsage().heapUsed;
}
const { samples, successes, failures, skipped } = e.sampler.stats;
await e.close();
process.stdout.write(`${JSON.stringify({ heap, samples, successes, failures, skipped })}\n`);
