/**
 * Test helpers: a node's evidence from dump text, as a bundle reader would build it (one streaming
 * pass through the scanner and the signature scanner), and the real published dumps of
 * `../shared/realworld/` (read in place; absent in a bare clone, where tests skip with the reason).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { NodeEvidence } from "../known-bugs/node-evidence.ts";
import { RuleSignatureScanner } from "../known-bugs/rule-signatures.ts";
import type { TableName } from "../model/ruleset.ts";
import { composeHandlers } from "../parse/compose-handlers.ts";
import { DumpReader } from "../parse/dump-reader.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { NodeScanner } from "../scan/scan-node.ts";

/** The real-world dumps directory (see its SOURCES.md). */
export const REALWORLD = resolve(process.cwd(), "../shared/realworld");

/** A real dump's text, or undefined (after printing why) when ../shared is absent. */
export function realworldDump(name: string, what: string): string | undefined {
  const path = join(REALWORLD, name);
  if (existsSync(path)) return readFileSync(path, "utf8");
  console.warn(`SKIP ${what}: ${path} is absent`);
  return undefined;
}

/** Options of {@linkcode evidenceFromDump}. */
export interface EvidenceFromDumpOptions {
  /** Table of `iptables -S`-style input without `*table` lines. */
  readonly table?: TableName;
  /** Bundle-relative dump path for the evidence (default `nodes/NODE/iptables-save.txt`). */
  readonly file?: string;
  /** Other evidence files of the node (`iptables --version`, `k3s --version`, stderr). */
  readonly extra?: Omit<Partial<NodeEvidence>, "node" | "scan" | "signatures">;
}

/**
 * Scans `dump` as the bundle reader does. A dump cut short (no COMMIT: the issue-tracker excerpts)
 * is scanned as far as it goes, as `scan` does with such pastes.
 */
export function evidenceFromDump(
  node: string,
  dump: string,
  options: EvidenceFromDumpOptions = {},
): NodeEvidence {
  const scanner = new NodeScanner();
  const sig = new RuleSignatureScanner();
  const reader = new DumpReader(
    composeHandlers(scanner.handler, sig.handler),
    options.table === undefined ? {} : { table: options.table },
  );
  reader.push(dump);
  try {
    reader.end();
  } catch (error) {
    if (!(error instanceof DumpSyntaxError && /has no COMMIT/.test(error.message))) throw error;
  }
  const file = options.file ?? `nodes/${node}/iptables-save.txt`;
  return {
    node,
    scan: scanner.finish({ node, file, header: reader.header }),
    signatures: sig.hits,
    ...options.extra,
  };
}
