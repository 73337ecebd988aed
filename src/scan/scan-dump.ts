/**
 * One dump's scan from text in memory: the library's short form of what `netdoctor scan` does per
 * file (the CLI streams files through the same {@linkcode NodeScanner}).
 */
import { DumpReader, type DumpReaderOptions } from "../parse/dump-reader.ts";
import { type NodeScan, NodeScanner } from "./scan-node.ts";

/** Options of {@linkcode scanDump}. */
export interface ScanDumpOptions extends DumpReaderOptions {
  /** The node's name in the result and its findings (default `node`). */
  readonly node?: string;
  /** The file name evidence points at (default `iptables-save.txt`). */
  readonly file?: string;
}

/**
 * Counts the rules and chains of one `iptables-save` (or `iptables -S`) dump and finds its exact
 * duplicate rules with their owner.
 *
 * @example
 * ```ts
 * const scan = scanDump("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\n-A INPUT -j DROP\nCOMMIT\n");
 * scan.duplicates.extraRules; // 1
 * ```
 * @throws {DumpSyntaxError} When the dump is structurally broken.
 */
export function scanDump(input: string | Iterable<string>, options: ScanDumpOptions = {}): NodeScan {
  const scanner = new NodeScanner();
  const reader = new DumpReader(scanner.handler, options.table === undefined ? {} : { table: options.table });
  if (typeof input === "string") reader.push(input);
  else for (const chunk of input) reader.push(chunk);
  reader.end();
  return scanner.finish({
    node: options.node ?? "node",
    file: options.file ?? "iptables-save.txt",
    header: reader.header,
  });
}
