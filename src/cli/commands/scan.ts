import { stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { Command } from "commander";
import { streamDump } from "../../collect/read-dump.ts";
import type { TableName } from "../../model/ruleset.ts";
import { renderScanText } from "../../report/render-scan-text.ts";
import { scanReport } from "../../scan/scan-dumps.ts";
import { type NodeScan, NodeScanner, rulesInBytes } from "../../scan/scan-node.ts";
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

/** Splits `NAME=FILE` (NAME defaults to the file's base name without extension). */
export function parseNamedFile(arg: string): { node: string; file: string } {
  const eq = arg.indexOf("=");
  if (eq > 0 && !arg.slice(0, eq).includes("/")) return { node: arg.slice(0, eq), file: arg.slice(eq + 1) };
  const base = basename(arg);
  return { node: base.slice(0, base.length - extname(base).length) || base, file: arg };
}

/**
 * Scans one dump file in a single streaming pass, exact whatever the order of its rules (see
 * {@linkcode NodeScanner}); the file's chunks are read into one reused buffer.
 */
export async function scanFile(node: string, file: string, table?: TableName): Promise<NodeScan> {
  const size =
    file === "-"
      ? 0
      : await stat(file).then(
          (s) => s.size,
          () => 0,
        );
  const scanner = new NodeScanner(size > 0 ? { expectedRules: rulesInBytes(size) } : {});
  const reader = await streamDump(
    file,
    scanner.handler,
    table === undefined ? { reuse: true } : { reuse: true, table },
  );
  return scanner.finish({ node, file, header: reader.header });
}

export function registerScan(program: Command): void {
  program
    .command("scan")
    .description(
      "node health from iptables-save dumps: rule counts, exact duplicates with their owner, outlier nodes",
    )
    .argument("<dumps...>", "[NAME=]FILE of iptables-save output per node (- for stdin)")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .option("-t, --table <table>", "table of `iptables -t TABLE -S` input (no *table headers)")
    .addHelpText(
      "after",
      `
Examples:
  iptables-save > w3.txt && netdoctor scan w3.txt
  netdoctor scan master1=m1.txt agent1=a1.txt -o json
  ssh node iptables-save | netdoctor scan node=-

Exit codes: 0 healthy, 1 problems found, 2 usage or input error`,
    )
    .action(
      runAction(async (dumps: string[], opts: { output: string; table?: string }) => {
        const format = parseOutputFormat(opts.output);
        const table = opts.table as TableName | undefined;
        if (table !== undefined && !["raw", "mangle", "nat", "filter", "security"].includes(table)) {
          throw new UsageError(`Cannot use table "${table}": expected raw, mangle, nat, filter or security`);
        }
        const named = dumps.map(parseNamedFile);
        const seen = new Set<string>();
        for (const { node } of named) {
          if (seen.has(node))
            throw new UsageError(`Cannot scan two dumps named "${node}": name them NAME=FILE`);
          seen.add(node);
        }
        const scans: NodeScan[] = [];
        for (const { node, file } of named) scans.push(await scanFile(node, file, table));
        const report = scanReport(scans);
        await writeStdout(formatOutput(format, report, renderScanText));
        return report.findings.some((f) => f.severity !== "info") ? EXIT_PROBLEMS : EXIT_OK;
      }),
    );
}
