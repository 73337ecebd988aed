/**
 * `netdoctor scan --bundle DIR`: every node directory's dump, named after its directory. A node
 * whose dump is missing or unreadable is reported (`iptables-unreadable`), so the scan of a partial
 * bundle never passes for a healthy one.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { makeFinding } from "../findings/make-finding.ts";
import type { EvidenceFile } from "../known-bugs/node-evidence.ts";
import { scanHealthReport } from "../known-bugs/node-health.ts";
import type { Finding } from "../model/finding.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import type { ScanReport } from "../scan/scan-dumps.ts";
import type { NodeScan } from "../scan/scan-node.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import { scanFile } from "./scan-file.ts";

function unreadable(node: string, file: string, detail: string): Finding {
  return makeFinding("iptables-unreadable", { node, detail }, { node, evidence: [{ file, text: detail }] });
}

/** Why a node directory has no dump to scan, from its `iptables-save.err` when there is one. */
async function missingDump(dir: string, node: string): Promise<Finding> {
  const rel = `nodes/${node}/iptables-save.err`;
  try {
    const first = (await readFile(join(dir, rel), "utf8")).split("\n").find((l) => l.trim() !== "");
    return unreadable(node, rel, `iptables-save failed on the node: ${first ?? "(empty stderr)"}`);
  } catch {
    return unreadable(node, `nodes/${node}/`, `nodes/${node}/iptables-save.txt is missing`);
  }
}

/** A small text file of the bundle with its bundle-relative path, or undefined when unreadable. */
async function smallFile(dir: string, rel: string): Promise<EvidenceFile | undefined> {
  try {
    return { file: rel, text: await readFile(join(dir, rel), "utf8") };
  } catch {
    return undefined;
  }
}

/**
 * Scans every node of the bundle in `dir`.
 *
 * @throws {CollectError} When `dir` has no readable `nodes/` directory.
 */
export async function scanBundle(dir: string): Promise<ScanReport> {
  let nodes: string[];
  try {
    const entries = await readdir(join(dir, "nodes"), { withFileTypes: true });
    nodes = entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (error) {
    throw new CollectError(`Cannot read bundle "${dir}": nodes/: ${errorWords(error)}`, { cause: error });
  }
  if (nodes.length === 0)
    throw new CollectError(`Cannot scan bundle "${dir}": nodes/ has no node directories`);
  const scans: NodeScan[] = [];
  const problems: Finding[] = [];
  for (const node of nodes) {
    const file = join(dir, "nodes", node, "iptables-save.txt");
    if (!existsSync(file)) {
      problems.push(await missingDump(dir, node));
      continue;
    }
    try {
      scans.push(await scanFile(node, file));
    } catch (error) {
      if (!(error instanceof CollectError || error instanceof DumpSyntaxError)) throw error;
      problems.push(unreadable(node, `nodes/${node}/iptables-save.txt`, error.message));
    }
  }
  // The node's version files decide which known bug (if any) its copies match.
  const versions = new Map<string, { iptablesVersion?: EvidenceFile; k3sVersion?: EvidenceFile }>();
  for (const node of nodes) {
    const iptablesVersion = await smallFile(dir, `nodes/${node}/iptables-version.txt`);
    const k3sVersion = await smallFile(dir, `nodes/${node}/k3s-version.txt`);
    versions.set(node, {
      ...(iptablesVersion === undefined ? {} : { iptablesVersion }),
      ...(k3sVersion === undefined ? {} : { k3sVersion }),
    });
  }
  const report = scanHealthReport(scans, { evidenceOf: (node) => versions.get(node) });
  return { ...report, findings: [...problems, ...report.findings] };
}
