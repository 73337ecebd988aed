/**
 * `netdoctor fix duplicates` as a library call: reads the dump in one pass that parses and scans it
 * (a truncated one is refused: a plan must see every rule), plans the removal in the chains the scan
 * found copies in, writes the restore files where asked and picks the
 * advice from the node's evidence next to the dump (bundle layout: nodes/NODE/).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { planAdvice } from "../fix/plan-advice.ts";
import { planDuplicates } from "../fix/plan-duplicates.ts";
import type { FixReport, WrittenFile } from "../fix/render-fix-text.ts";
import { type RestoreFile, renderRestore } from "../fix/render-restore.ts";
import type { EvidenceFile } from "../known-bugs/node-evidence.ts";
import { TABLE_NAMES, type TableName } from "../model/ruleset.ts";
import type { NodeScan } from "../scan/scan-node.ts";
import { CollectError } from "./collect-error.ts";
import { dumpNodeName } from "./dump-node-name.ts";
import { errorWords } from "./errno-words.ts";
import { readAndScanDump } from "./read-dump.ts";
import { writeOutputFile } from "./write-output-file.ts";

/** Options of {@linkcode fixDuplicates}. */
export interface FixDuplicatesOptions {
  /** The dump (`-` for stdin). */
  readonly dump: string;
  /** Where the restore input goes: one FILE, or DIR/<table>.rules (a path ending in `/` or a directory). */
  readonly out?: string;
  /** Plan only this table (also the table of `iptables -S` input). */
  readonly table?: TableName;
  /** Progress for people (reading, planning). */
  readonly onProgress?: (text: string) => void;
}

/** The first line of every file this command writes (see renderRestore). */
const OWN_HEADER = "# netdoctor fix duplicates:";

/** Where the restore files go: one file with a block per table, or DIR/<table>.rules. */
function outputPaths(out: string, tables: readonly TableName[]): { dir: boolean; paths: string[] } {
  const dir = out.endsWith("/") || (existsSync(out) && statSync(out).isDirectory());
  return { dir, paths: dir ? tables.map((t) => join(out, `${t}.rules`)) : [out] };
}

function isOurs(path: string): boolean {
  try {
    return readFileSync(path, "utf8").startsWith(OWN_HEADER);
  } catch {
    return false;
  }
}

/**
 * Deletes restore files an earlier run wrote to the same place that this run does not rewrite: left
 * there, an old plan could be applied by mistake. Only files that start with our own header go.
 */
async function removeStaleFiles(out: string, writing: ReadonlySet<TableName>): Promise<void> {
  const { dir, paths } = outputPaths(out, TABLE_NAMES);
  if (!dir) {
    if (writing.size === 0 && existsSync(out) && isOurs(out)) await rm(out);
    return;
  }
  for (let i = 0; i < TABLE_NAMES.length; i++) {
    if (!writing.has(TABLE_NAMES[i]!) && existsSync(paths[i]!) && isOurs(paths[i]!)) await rm(paths[i]!);
  }
}

/** Writes the restore input to `out` (each file whole or not at all) and says what went where. */
async function writeRestoreFiles(out: string, restore: readonly RestoreFile[]): Promise<WrittenFile[]> {
  await removeStaleFiles(out, new Set(restore.map((f) => f.table)));
  if (restore.length === 0) return [];
  const { dir, paths } = outputPaths(
    out,
    restore.map((f) => f.table),
  );
  if (!dir) {
    await writeOutputFile(paths[0]!, restore.map((f) => f.text).join(""), { what: "the restore input" });
    return restore.map((f) => ({ table: f.table, path: paths[0]!, chains: f.chains }));
  }
  try {
    await mkdir(out, { recursive: true });
  } catch (error) {
    throw new CollectError(`Cannot create "${out}": ${errorWords(error)}`, { cause: error });
  }
  const files: WrittenFile[] = [];
  for (let i = 0; i < restore.length; i++) {
    await writeOutputFile(paths[i]!, restore[i]!.text, { what: `the ${restore[i]!.table} restore input` });
    files.push({ table: restore[i]!.table, path: paths[i]!, chains: restore[i]!.chains });
  }
  return files;
}

/** A file next to the dump (in a bundle, the node's versions sit next to its dump). */
function besideDump(dump: string, name: string): EvidenceFile | undefined {
  if (dump === "-") return undefined;
  const path = join(dirname(dump), name);
  return existsSync(path) ? { file: path, text: readFileSync(path, "utf8") } : undefined;
}

/** The chains of each table that the scan found exact copies in. */
function chainsWithCopies(scan: NodeScan): Map<TableName, Set<string>> {
  const out = new Map<TableName, Set<string>>();
  for (const g of scan.duplicates.groups) {
    let set = out.get(g.table);
    if (set === undefined) out.set(g.table, (set = new Set()));
    set.add(g.chain);
  }
  return out;
}

/**
 * Plans the removal of exact duplicate rules from a dump; see the file comment.
 *
 * @throws {CollectError} When the dump cannot be read or the files cannot be written.
 * @throws {DumpSyntaxError} When the dump is not a whole iptables-save dump.
 */
export async function fixDuplicates(options: FixDuplicatesOptions): Promise<FixReport> {
  const { dump, table } = options;
  options.onProgress?.(`reading ${dump}...`);
  const node = dumpNodeName(dump);
  // One pass: the plan's ruleset and the scan for the advice; the dump's text is held once.
  const { ruleset, scan, signatures } = await readAndScanDump(
    dump,
    { node, file: dump },
    table === undefined ? { lazy: true } : { lazy: true, table },
  );
  options.onProgress?.(`planning over ${ruleset.ruleCount} rules...`);
  const plan = planDuplicates(ruleset, {
    ...(table === undefined ? {} : { tables: [table] }),
    chainsWithCopies: chainsWithCopies(scan),
  });
  const files =
    options.out === undefined ? [] : await writeRestoreFiles(options.out, renderRestore(ruleset, plan));
  const iptablesVersion = besideDump(dump, "iptables-version.txt");
  const k3sVersion = besideDump(dump, "k3s-version.txt");
  // Without a file there are no version files beside it: the rest of the catalogue is not consulted.
  const evidence = dump !== "-" && plan.removed > 0 ? { node, scan, signatures } : undefined;
  const advice = planAdvice(plan, {
    node,
    files: files.length > 0 ? [...new Set(files.map((f) => f.path))] : ["FILE"],
    ...(iptablesVersion === undefined ? {} : { iptablesVersion }),
    ...(k3sVersion === undefined ? {} : { k3sVersion }),
    ...(evidence === undefined ? {} : { evidence }),
  });
  return { dump, ...plan, files, advice };
}
