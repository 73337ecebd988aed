import type { Command } from "commander";
import { dumpNodeName } from "../../collect/dump-node-name.ts";
import { scanBundle } from "../../collect/scan-bundle.ts";
import { scanDumpFiles } from "../../collect/scan-file.ts";
import { TABLE_NAMES, type TableName } from "../../model/ruleset.ts";
import { renderScanText } from "../../report/render-scan-text.ts";
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

/**
 * Splits `NAME=FILE`. NAME defaults to the file's base name without extension, and for a bundle's
 * `nodes/NODE/iptables-save.txt` to NODE (so `scan nodes/*\/iptables-save.txt` names every node).
 */
export function parseNamedFile(arg: string): { node: string; file: string } {
  const eq = arg.indexOf("=");
  if (eq > 0 && !arg.slice(0, eq).includes("/")) return { node: arg.slice(0, eq), file: arg.slice(eq + 1) };
  return { node: dumpNodeName(arg), file: arg };
}

export function registerScan(program: Command): void {
  program
    .command("scan")
    .description(
      "node health from iptables-save dumps: rule counts, exact duplicates with their owner, outlier nodes",
    )
    .argument("[dumps...]", "[NAME=]FILE of iptables-save output per node (- for stdin)")
    .option("-b, --bundle <dir>", "scan every node of a bundle (nodes/NODE/iptables-save.txt, named NODE)")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .option("-t, --table <table>", "table of `iptables -t TABLE -S` input (no *table headers)")
    .addHelpText(
      "after",
      `
Input: iptables-save output (plain, gzip, UTF-8 or UTF-16), \`iptables -S\` output (the table is
told by its built-in chains, or give --table) or bare -A lines of one chain. A dump cut short (no
COMMIT) is counted as far as it goes and reported. \`iptables -L\` listings and \`ipvsadm -Ln\` are
refused with the command to run instead.

Examples:
  iptables-save > w3.txt && netdoctor scan w3.txt
  netdoctor scan master1=m1.txt agent1=a1.txt -o json
  netdoctor scan --bundle ./bundle
  netdoctor scan bundle/nodes/*/iptables-save.txt      # each dump named after its node directory
  ssh node iptables-save | netdoctor scan node=-

Exit codes: 0 healthy, 1 problems found, 2 usage or input error`,
    )
    .action(
      runAction(async (dumps: string[], opts: { output: string; table?: string; bundle?: string }) => {
        const format = parseOutputFormat(opts.output);
        const table = opts.table as TableName | undefined;
        if (table !== undefined && !TABLE_NAMES.includes(table)) {
          throw new UsageError(`Cannot use table "${table}": expected raw, mangle, nat, filter or security`);
        }
        if ((opts.bundle === undefined) === (dumps.length === 0)) {
          throw new UsageError("Cannot scan: give dump files or --bundle DIR (one of the two)");
        }
        if (opts.bundle !== undefined && table !== undefined) {
          throw new UsageError("Cannot use --table with --bundle: a bundle holds whole iptables-save dumps");
        }
        const named = dumps.map(parseNamedFile);
        const seen = new Set<string>();
        for (const { node } of named) {
          if (seen.has(node))
            throw new UsageError(`Cannot scan two dumps named "${node}": name them NAME=FILE`);
          seen.add(node);
        }
        const report =
          opts.bundle === undefined ? await scanDumpFiles(named, table) : await scanBundle(opts.bundle);
        await writeStdout(formatOutput(format, report, renderScanText));
        return report.findings.some((f) => f.severity !== "info") ? EXIT_PROBLEMS : EXIT_OK;
      }),
    );
}
