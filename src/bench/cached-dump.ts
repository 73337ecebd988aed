/**
 * Generated dumps are large (1M rules is ~170 MB), so benches write them once under `.bench/` and reuse
 * them; a version stamp beside each file regenerates it when the generator's output changes.
 */
import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type GenerateDumpOptions, generateDump, optionsForRules } from "./generate-dump.ts";
import type { BenchLayout } from "./layouts.ts";

/** Bump when generate-dump.ts's output changes, so every cached dump is regenerated. */
const GENERATOR_VERSION = "3";

/** Path of `.bench/<prefix>-<rules>.txt`, generated on first use. */
export async function cachedDump(prefix: string, rules: number): Promise<string> {
  return cachedFile(`${prefix}-${rules}.txt`, optionsForRules(rules));
}

/** Path of `.bench/layout-<name>-<rules>.txt`, generated on first use. */
export async function cachedLayoutDump(layout: BenchLayout, rules = layout.rules): Promise<string> {
  return cachedFile(`layout-${layout.name}-${rules}.txt`, layout.options(rules));
}

async function cachedFile(name: string, options: GenerateDumpOptions): Promise<string> {
  const dir = resolve(".bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  const stamp = `${file}.version`;
  if (existsSync(file) && existsSync(stamp) && readFileSync(stamp, "utf8") === GENERATOR_VERSION) return file;
  process.stderr.write(`  generating ${file}...\n`);
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  for (const chunk of generateDump(options)) {
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "close");
  renameSync(tmp, file);
  writeFileSync(stamp, GENERATOR_VERSION);
  return file;
}
