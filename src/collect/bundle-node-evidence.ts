/**
 * Reads one node directory of a bundle (`nodes/NODE/`, format in docs/bundle.md) into the evidence
 * the diagnosis judges it by. Nothing here stops the bundle's diagnosis: a dump that cannot be read
 * or parsed, or a node directory that cannot be listed, becomes a `bundle-invalid` problem and a
 * node without a scan, which the known-bug catalogue reports as `iptables-unreadable`.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { makeFinding } from "../findings/make-finding.ts";
import type { EvidenceFile, NodeEvidence } from "../known-bugs/node-evidence.ts";
import { RuleSignatureScanner } from "../known-bugs/rule-signatures.ts";
import { KUBE_PROXY_FILES, type KubeProxyNodeFiles } from "../kube-proxy/kube-proxy-files.ts";
import { type KubeProxyIndex, KubeProxyIndexer } from "../kube-proxy/kube-proxy-index.ts";
import { rulesetIndex } from "../kube-proxy/ruleset-index.ts";
import type { Finding } from "../model/finding.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { composeHandlers } from "../parse/compose-handlers.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { RulesetBuilder } from "../parse/parse-dump.ts";
import { type NodeScan, NodeScanner } from "../scan/scan-node.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords, hasCode, isSystemError } from "./errno-words.ts";
import { streamDump } from "./read-dump.ts";
import { readKubeChains } from "./read-kube-chains.ts";

/** One node directory read in a single streaming pass. */
export interface BundleNode {
  readonly evidence: NodeEvidence;
  /** Absent when the dump could not be read. */
  readonly index?: KubeProxyIndex;
  /** kube-proxy's own files (metrics, mode) and the other proxy-mode evidence of the node. */
  readonly kubeProxy: KubeProxyNodeFiles;
  /** The parsed dump (lazy), when asked for and readable. */
  readonly ruleset?: Ruleset;
  readonly problems: readonly Finding[];
}

/** Options of {@linkcode readBundleNode}. */
export interface ReadBundleNodeOptions {
  /** Also parse the dump (lazily) in the same pass, for the trace of the client node. */
  readonly ruleset?: boolean;
}

/** A `bundle-invalid` problem of one node's file. */
function invalid(node: string, file: string, message: string, line?: number): Finding {
  const evidence = [{ file, ...(line === undefined ? {} : { line }), text: message }];
  return makeFinding("bundle-invalid", { problem: message }, { node, evidence });
}

/** Reads a small text file; absent is `undefined`, unreadable is a problem (and `undefined`). */
async function small(
  dir: string,
  rel: string,
  problems: Finding[],
  node: string,
): Promise<EvidenceFile | undefined> {
  try {
    return { file: rel, text: await readFile(join(dir, rel), "utf8") };
  } catch (error) {
    if (!hasCode(error, "ENOENT"))
      problems.push(invalid(node, rel, `Cannot read ${rel}: ${errorWords(error)}`));
    return undefined;
  }
}

/** What a problem reading a dump says: its line for a parse error, its cause for an I/O error. */
function dumpProblem(node: string, file: string, error: unknown): Finding {
  if (error instanceof DumpSyntaxError) {
    const detail = error.message.replace(/^Cannot parse dump(?: at line \d+)?: /, "");
    return invalid(
      node,
      file,
      `Cannot parse ${file} at line ${error.line}, column ${error.column}: ${detail}`,
      error.line,
    );
  }
  const detail =
    error instanceof CollectError ? error.message.replace(/^Cannot read [^:]*: /, "") : errorWords(error);
  return invalid(node, file, `Cannot read ${file}: ${detail}`);
}

/**
 * Scans, indexes and signature-checks `iptables-save.txt` (and parses it, when asked) in one pass
 * over the file; a failure is a problem, never thrown.
 */
async function readDumpEvidence(
  bundleDir: string,
  node: string,
  context: { readonly problems: Finding[]; readonly ruleset: boolean },
) {
  const file = `nodes/${node}/iptables-save.txt`;
  try {
    const path = join(bundleDir, file);
    const size = (await stat(path)).size;
    const expected = size > 0 ? { expectedBytes: size } : {};
    const scanner = new NodeScanner(expected);
    const signatures = new RuleSignatureScanner();
    // A parsed dump is indexed from the parse, on demand (ruleset-index.ts); only a dump read
    // without its parse is indexed rule by rule during the pass.
    const builder = context.ruleset ? new RulesetBuilder({ lazy: true }) : undefined;
    const indexer = builder === undefined ? new KubeProxyIndexer() : undefined;
    const handlers = [scanner.handler, signatures.handler, (builder ?? indexer!).handler];
    // Chunks are reused unless the ruleset keeps them as its rules' text.
    const reader = await streamDump(path, composeHandlers(...handlers), { reuse: builder === undefined });
    const scan = scanner.finish({ node, file, header: reader.header });
    const ruleset = builder?.finish(reader);
    const index: KubeProxyIndex = ruleset === undefined ? indexer!.finish() : rulesetIndex(ruleset);
    return { scan, signatures: signatures.hits, index, ruleset };
  } catch (error) {
    if (!(error instanceof DumpSyntaxError || error instanceof CollectError || isSystemError(error)))
      throw error;
    context.problems.push(dumpProblem(node, file, error));
    return undefined;
  }
}

/**
 * Scans `iptables-legacy-save.txt`. An empty file is a node without legacy tables (the command
 * prints nothing then), not a broken one.
 */
async function readLegacyScan(
  bundleDir: string,
  node: string,
  problems: Finding[],
): Promise<NodeScan | undefined> {
  const file = `nodes/${node}/iptables-legacy-save.txt`;
  const scanner = new NodeScanner();
  try {
    if ((await stat(join(bundleDir, file))).size === 0)
      return scanner.finish({ node, file, header: { backend: "legacy" } });
    const reader = await streamDump(join(bundleDir, file), scanner.handler, { reuse: true });
    return scanner.finish({ node, file, header: reader.header });
  } catch (error) {
    if (!(error instanceof DumpSyntaxError || error instanceof CollectError || hasCode(error, "EACCES")))
      throw error;
    problems.push(dumpProblem(node, file, error));
    return undefined;
  }
}

/** The kube-proxy files of a node directory (names in {@linkcode KUBE_PROXY_FILES}). */
async function kubeProxyFiles(
  bundleDir: string,
  node: string,
  context: { readonly problems: Finding[]; readonly nftRuleset?: EvidenceFile },
): Promise<KubeProxyNodeFiles> {
  const rel = `nodes/${node}`;
  const read = (name: string) => small(bundleDir, `${rel}/${name}`, context.problems, node);
  const metrics = await read(KUBE_PROXY_FILES.metrics);
  const mode = await read(KUBE_PROXY_FILES.mode);
  const ipvsadm = await read(KUBE_PROXY_FILES.ipvsadm);
  let addresses: EvidenceFile | undefined;
  for (const name of KUBE_PROXY_FILES.addresses) addresses ??= await read(name);
  const nftRuleset = context.nftRuleset;
  return {
    ...(metrics === undefined ? {} : { metrics }),
    ...(mode === undefined ? {} : { mode }),
    ...(ipvsadm === undefined ? {} : { ipvsadm }),
    ...(addresses === undefined ? {} : { addresses }),
    ...(nftRuleset === undefined ? {} : { nftRuleset }),
  };
}

/** `iptables-save.err` with the exit code of `iptables-save.exit`, when the node has them. */
async function saveErrorOf(bundleDir: string, node: string, problems: Finding[]) {
  const rel = `nodes/${node}`;
  const err = await small(bundleDir, `${rel}/iptables-save.err`, problems, node);
  if (err === undefined) return undefined;
  const exit = await small(bundleDir, `${rel}/iptables-save.exit`, problems, node);
  const exitCode = exit === undefined ? undefined : Number.parseInt(exit.text.trim(), 10);
  return { ...err, ...(exitCode === undefined || Number.isNaN(exitCode) ? {} : { exitCode }) };
}

/**
 * Reads `nodes/NODE/`: scans and indexes its iptables-save.txt (and parses it, when asked) in one pass
 * over the file, and picks up the small files.
 */
export async function readBundleNode(
  bundleDir: string,
  node: string,
  options: ReadBundleNodeOptions = {},
): Promise<BundleNode> {
  const rel = `nodes/${node}`;
  const problems: Finding[] = [];
  let files: string[];
  try {
    files = await readdir(join(bundleDir, rel));
  } catch (error) {
    problems.push(invalid(node, `${rel}/`, `Cannot read ${rel}/: ${errorWords(error)}`));
    return { evidence: { node }, kubeProxy: {}, problems };
  }
  const iptablesVersion = await small(bundleDir, `${rel}/iptables-version.txt`, problems, node);
  const k3sVersion = await small(bundleDir, `${rel}/k3s-version.txt`, problems, node);
  const nftRuleset = await small(bundleDir, `${rel}/nft-ruleset.txt`, problems, node);
  const saveError = await saveErrorOf(bundleDir, node, problems);
  const otherErrors: EvidenceFile[] = [];
  for (const f of files.filter((f) => f.endsWith(".err") && f !== "iptables-save.err").sort()) {
    const e = await small(bundleDir, `${rel}/${f}`, problems, node);
    if (e !== undefined) otherErrors.push(e);
  }
  const dump = files.includes("iptables-save.txt")
    ? await readDumpEvidence(bundleDir, node, { problems, ruleset: options.ruleset === true })
    : undefined;
  // An .err without an exit code, or with a non-zero one, is the reason the dump is missing.
  const saveFailed = saveError !== undefined && saveError.exitCode !== 0;
  if (!files.includes("iptables-save.txt") && !saveFailed) {
    const message = `Cannot check node "${node}": ${rel}/iptables-save.txt is missing (write it with \`iptables-save > ${rel}/iptables-save.txt\`)`;
    problems.push(invalid(node, `${rel}/`, message));
  }
  const legacyScan = files.includes("iptables-legacy-save.txt")
    ? await readLegacyScan(bundleDir, node, problems)
    : undefined;
  const kubeChains = await readKubeChains(bundleDir, node, {
    backend: dump?.scan.header.backend,
    nftRuleset,
    legacyChains: legacyScan?.chains,
  });
  const evidence: NodeEvidence = {
    node,
    ...(kubeChains === undefined ? {} : { kubeChains }),
    ...(dump === undefined ? {} : { scan: dump.scan, signatures: dump.signatures }),
    ...(legacyScan === undefined ? {} : { legacyScan }),
    ...(iptablesVersion === undefined ? {} : { iptablesVersion }),
    ...(k3sVersion === undefined ? {} : { k3sVersion }),
    ...(nftRuleset === undefined ? {} : { nftRuleset }),
    ...(saveError === undefined ? {} : { saveError }),
    ...(otherErrors.length === 0 ? {} : { otherErrors }),
  };
  const kubeProxy = await kubeProxyFiles(bundleDir, node, {
    problems,
    ...(nftRuleset === undefined ? {} : { nftRuleset }),
  });
  return {
    evidence,
    ...(dump === undefined ? {} : { index: dump.index }),
    ...(dump?.ruleset === undefined ? {} : { ruleset: dump.ruleset }),
    kubeProxy,
    problems,
  };
}
