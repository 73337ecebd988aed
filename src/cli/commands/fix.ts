import { resolve } from "node:path";
import type { Command } from "commander";
import { fixDuplicates } from "../../collect/fix-duplicates-files.ts";
import { renderFixText } from "../../fix/render-fix-text.ts";
import { TABLE_NAMES, type TableName } from "../../model/ruleset.ts";
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

interface DuplicatesOptions {
  dump?: string;
  out?: string;
  output: string;
  table?: string;
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
        if (table !== undefined && !TABLE_NAMES.includes(table)) {
          throw new UsageError(`Cannot use table "${table}": expected raw, mangle, nat, filter or security`);
        }
        if (opts.out !== undefined && dump !== "-" && resolve(opts.out) === resolve(dump)) {
          throw new UsageError(`Cannot write to "${opts.out}": it is the dump being read`);
        }
        const report = await fixDuplicates({
          dump,
          ...(opts.out === undefined ? {} : { out: opts.out }),
          ...(table === undefined ? {} : { table }),
          onProgress: (text) => {
            if (process.stderr.isTTY) process.stderr.write(`${text}\n`);
          },
        });
        await writeStdout(formatOutput(format, report, renderFixText));
        return report.removed > 0 ? EXIT_PROBLEMS : EXIT_OK;
      }),
    );
}
