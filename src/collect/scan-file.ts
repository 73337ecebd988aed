import { scanHealthReport } from "../known-bugs/node-health.ts";
import type { TableName } from "../model/ruleset.ts";
import type { ScanReport } from "../scan/scan-dumps.ts";
import { type NodeScan, NodeScanner } from "../scan/scan-node.ts";
import { dumpBytes, streamDump } from "./read-dump.ts";

/**
 * Scans one dump file in a single streaming pass, exact whatever the order of its rules (see
 * {@linkcode NodeScanner}); the file's chunks are read into two reused buffers. A truncated dump is
 * counted as far as it goes, with a warning.
 */
export async function scanFile(node: string, file: string, table?: TableName): Promise<NodeScan> {
  const size = await dumpBytes(file);
  const scanner = new NodeScanner(size === undefined ? {} : { expectedBytes: size });
  const options = { allowTruncated: true, reuse: true, ...(table === undefined ? {} : { table }) };
  const reader = await streamDump(file, scanner.handler, options);
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
