import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { Command } from "commander";
import { readAndScanDump } from "../../collect/read-dump.ts";
import { planAdvice } from "../../fix/plan-advice.ts";
import { planDuplicates } from "../../fix/plan-duplicates.ts";
import { type FixReport, renderFixText, type WrittenFile } from "../../fix/render-fix-text.ts";
import { renderRestore } from "../../fix/render-restore.ts";
import { detectKnownBugs } from "../../known-bugs/known-bugs.ts";
import type { EvidenceFile } from "../../known-bugs/node-evidence.ts";
import type { TableName } from "../../model/ruleset.ts";
import type { NodeScan } from "../../scan/scan-node.ts";
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

const TABLES: readonly TableName[] = ["raw", "mangle", "nat", "filter", "security"];

interface DuplicatesOptions {
  dump?: string;
  out?: string;
  output: string;
  table?: string;
}

function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${text}\n`);
}

/** Where the restore files go: one file with a block per table, or DIR/<table>.rules. */
function outputPaths(out: string, tables: readonly TableName[]): { dir: boolean; paths: string[] } {
  const dir = out.endsWith("/") || (existsSync(out) && statSync(out).isDirectory());
  return { dir, paths: dir ? tables.map((t) => join(out, `${t}.rules`)) : [out] };
}

/** The first line of every file this command writes (see renderRestore). */
const OWN_HEADER = "# netdoctor fix duplicates:";

/**
 * Deletes restore files an earlier run wrote to the same place that this run does not rewrite: left
 * there, an old plan could be applied by mistake. Only files that start with our own header go.
 */
async function removeStaleFiles(out: string, writing: ReadonlySet<TableName>): Promise<void> {
  const isOurs = (path: string): boolean => {
    try {
      return readFileSync(path, "utf8").startsWith(OWN_HEADER);
    } catch {
      return false;
    }
  };
  const { dir, paths } = outputPaths(out, TABLES);
  if (!dir) {
    if (writing.size === 0 && existsSync(out) && isOurs(out)) await rm(out);
    return;
  }
  for (let i = 0; i < TABLES.length; i++) {
    if (!writing.has(TABLES[i]!) && existsSync(paths[i]!) && isOurs(paths[i]!)) await rm(paths[i]!);
  }
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

export function registerFix(program: Command): void {
  const fix = program
    .command("fix")
    .description("plan repairs of a node's iptables rules (read-only: writes files, never applies them)");
  fix
    .command("duplicates")
    .description(
      "find the exact duplicate rules that can be removed without changing what the ruleset does to any packet, " +
        "and write iptables-restore --noflush input that replaces only the affected chains",
    )
    .requiredOption("--dump <file>", "iptables-save output of the node (- for stdin)")
    .option(
      "--out <file|dir/>",
      "write the restore input: one FILE with a *table block per table, or DIR/<table>.rules",
    )
    .option("-o, --output <format>", "text, json or yaml", "text")
    .option("-t, --table <table>", "plan only this table; also the table of `iptables -t TABLE -S` input")
    .addHelpText(
      "after",
      `
Examples:
  iptables-save > /root/before.rules
  netdoctor fix duplicates --dump /root/before.rules                 # the plan only
  netdoctor fix duplicates --dump /root/before.rules --out /root/dedupe/
  iptables-nft-restore --noflush /root/dedupe/filter.rules           # you apply it, after stopping k3s

Why not iptables-save | awk '!seen[$0]++' | iptables-restore: see docs/fix-duplicates.md.
Exit codes: 0 nothing to remove, 1 removable duplicates found, 2 usage or input error`,
    )
    .action(
      runAction(async (opts: DuplicatesOptions) => {
        const format = parseOutputFormat(opts.output);
        const dump = opts.dump!;
        const table = opts.table as TableName | undefined;
        if (table !== undefined && !TABLES.includes(table)) {
          throw new UsageError(`Cannot use table "${table}": expected raw, mangle, nat, filter or security`);
        }
        if (opts.out !== undefined && dump !== "-" && resolve(opts.out) === resolve(dump)) {
          throw new UsageError(`Cannot write to "${opts.out}": it is the dump being read`);
        }
        progress(`reading ${dump}...`);
        // A bundle's nodes/<node>/iptables-save.txt is named after its directory.
        const base = basename(dump);
        const stem = base.slice(0, base.length - extname(base).length) || base;
        const node = stem === "iptables-save" ? basename(dirname(resolve(dump))) : stem;
        // One pass: the plan's ruleset and the scan for the known-bug step; the dump's text is held once.
        const { ruleset, scan } = await readAndScanDump(
          dump,
          { node, file: dump },
          table === undefined ? { lazy: true } : { lazy: true, table },
        );
        progress(`planning over ${ruleset.ruleCount} rules...`);
        const plan = planDuplicates(ruleset, {
          ...(table === undefined ? {} : { tables: [table] }),
          chainsWithCopies: chainsWithCopies(scan),
        });
        const restoreFiles = renderRestore(ruleset, plan);
        const files: WrittenFile[] = [];
        if (opts.out !== undefined)
          await removeStaleFiles(opts.out, new Set(restoreFiles.map((f) => f.table)));
        if (opts.out !== undefined && restoreFiles.length > 0) {
          const { dir, paths } = outputPaths(
            opts.out,
            restoreFiles.map((f) => f.table),
          );
          if (dir) {
            await mkdir(opts.out, { recursive: true });
            for (let i = 0; i < restoreFiles.length; i++) {
              await writeFile(paths[i]!, restoreFiles[i]!.text);
              files.push({ table: restoreFiles[i]!.table, path: paths[i]!, chains: restoreFiles[i]!.chains });
            }
          } else {
            await writeFile(paths[0]!, restoreFiles.map((f) => f.text).join(""));
            for (const f of restoreFiles) files.push({ table: f.table, path: paths[0]!, chains: f.chains });
          }
        }
        // In a bundle (nodes/<node>/iptables-save.txt) the node's versions sit next to the dump.
        const side = (name: string): EvidenceFile | undefined => {
          if (dump === "-") return undefined;
          const path = join(dirname(dump), name);
          return existsSync(path) ? { file: path, text: readFileSync(path, "utf8") } : undefined;
        };
        const iptablesVersion = side("iptables-version.txt");
        const k3sVersion = side("k3s-version.txt");
        let knownBugs: ReturnType<typeof detectKnownBugs> = [];
        // Without a file there are no version files beside it: the plan gives the catalogue's general advice.
        if (dump !== "-" && plan.removed > 0) {
          knownBugs = detectKnownBugs({
            node,
            scan,
            ...(iptablesVersion === undefined ? {} : { iptablesVersion }),
            ...(k3sVersion === undefined ? {} : { k3sVersion }),
          });
        }
        const advice = planAdvice(plan, {
          knownBugs,
          files: files.length > 0 ? [...new Set(files.map((f) => f.path))] : ["FILE"],
          ...(k3sVersion === undefined ? {} : { k3sVersion: k3sVersion.text }),
        });
        const report: FixReport = { dump, ...plan, files, advice };
        await writeStdout(formatOutput(format, report, renderFixText));
        return plan.removed > 0 ? EXIT_PROBLEMS : EXIT_OK;
      }),
    );
}
