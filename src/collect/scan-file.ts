import { scanHealthReport } from "../known-bugs/node-health.ts";
import type { TableName } from "../model/ruleset.ts";
import type { ScanReport } from "../scan/scan-dumps.ts";
import { type NodeScan, NodeScanner } from "../scan/scan-node.ts";
import { streamDump } from "./read-dump.ts";

/**
 * Scans one dump file in a streaming pass; a truncated dump is counted as far as it goes, with a
 * warning. A file whose chains' rules are not contiguous (never iptables-save output, but hand-edited
 * dumps) is read a second time keeping every rule, so its duplicate counts are exact; stdin cannot be
 * re-read, and there the scan's warning says so.
 */
export async function scanFile(node: string, file: string, table?: TableName): Promise<NodeScan> {
  const options = { allowTruncated: true, ...(table === undefined ? {} : { table }) };
  const scanner = new NodeScanner();
  const reader = await streamDump(file, scanner.handler, options);
  if (scanner.interleaved && file !== "-") {
    const exact = new NodeScanner({ keepAllRules: true });
    const again = await streamDump(file, exact.handler, options);
    return exact.finish({ node, file, header: again.header });
  }
  return scanner.finish({ node, file, header: reader.header });
}

/** `netdoctor scan FILE...`: each dump under its node name, then the cross-node findings. */
export async function scanDumpFiles(
  dumps: readonly { readonly node: string; readonly file: string }[],
  table?: TableName,
): Promise<ScanReport> {
  const scans: NodeScan[] = [];
  for (const { node, file } of dumps) scans.push(await scanFile(node, file, table));
  return scanHealthReport(scans);
}
