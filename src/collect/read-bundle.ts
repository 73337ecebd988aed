/**
 * Reads a netdoctor cluster bundle directory (format in docs/bundle.md): the API lists of
 * `cluster/`, validated per kind, and the node directories of `nodes/`. A required cluster file
 * that is missing or not a list of its kind stops with a {@linkcode CollectError} naming the path;
 * a bad item, an optional file or a broken node directory becomes a `bundle-invalid` finding and
 * the rest is still diagnosed.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { EvidenceFile, NodeEvidence } from "../known-bugs/node-evidence.ts";
import { RuleSignatureScanner } from "../known-bugs/rule-signatures.ts";
import { type KubeProxyIndex, KubeProxyIndexer } from "../kube-proxy/kube-proxy-index.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { composeHandlers } from "../parse/compose-handlers.ts";
import { type DumpHandler, DumpReader } from "../parse/dump-reader.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { RulesetBuilder } from "../parse/parse-dump.ts";
import { NodeScanner, rulesInBytes } from "../scan/scan-node.ts";
import { CollectError } from "./collect-error.ts";
import { BundleSchemaError, convertList, type KindTypes, type ObjectKind } from "./kube-objects.ts";
import { dumpChunks } from "./read-dump.ts";

/** The bundle format this reader understands. */
export const BUNDLE_FORMAT = "netdoctor-bundle/v1";

export interface BundleMeta {
  readonly format: string;
  readonly cluster?: string;
  readonly collectedAt?: string;
}

/** A bundle's API side and its node directories (dumps are read per node, see {@linkcode readBundleNode}). */
export interface Bundle {
  readonly dir: string;
  readonly meta: BundleMeta;
  readonly cluster: ClusterState;
  /** Names of the directories under `nodes/`. */
  readonly nodeDirs: readonly string[];
  /** `bundle-invalid` findings: what could not be read, with its path. */
  readonly problems: readonly Finding[];
}

function invalid(file: string, message: string, line?: number): Finding {
  return {
    code: "bundle-invalid",
    severity: "warning",
    message,
    evidence: [{ file, ...(line === undefined ? {} : { line }), text: message }],
    fix: "Collect the file again (see docs/bundle.md for the command that writes it)",
  };
}

/** `Unexpected token … in JSON at position 123` → line and column of position 123. */
export function jsonErrorMessage(file: string, text: string, error: SyntaxError): string {
  const m = /position (\d+)/.exec(error.message);
  const detail = error.message
    .replace(/^JSON\.parse: /, "")
    .replace(/ in JSON at position \d+.*$/, "")
    .replace(/, "[\s\S]*" is not valid JSON$/, "");
  if (m === null) {
    if (/Unexpected end of JSON input/.test(error.message) || text.trim() === "") {
      const lines = text.split("\n");
      return `Cannot parse ${file} at line ${lines.length}, column ${lines.at(-1)!.length + 1}: unexpected end of JSON`;
    }
    return `Cannot parse ${file}: ${detail}`;
  }
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return `Cannot parse ${file} at line ${line}, column ${column}: ${detail}`;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CollectError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
}

/** Where a bundle keeps the list of one kind of object, and how the user writes it. */
interface ListFile<K extends ObjectKind> {
  readonly kind: K;
  readonly file: string;
  readonly required: boolean;
  readonly command: string;
}

const CLUSTER_FILES: { readonly [K in ObjectKind]: ListFile<K> } = {
  Pod: { kind: "Pod", file: "cluster/pods.json", required: true, command: "kubectl get pods -A -o json" },
  Service: {
    kind: "Service",
    file: "cluster/services.json",
    required: true,
    command: "kubectl get services -A -o json",
  },
  EndpointSlice: {
    kind: "EndpointSlice",
    file: "cluster/endpointslices.json",
    required: true,
    command: "kubectl get endpointslices -A -o json",
  },
  Node: { kind: "Node", file: "cluster/nodes.json", required: true, command: "kubectl get nodes -o json" },
  ConfigMap: {
    kind: "ConfigMap",
    file: "cluster/configmaps.json",
    required: false,
    command: "kubectl get configmaps -A -o json",
  },
};

async function readList<K extends ObjectKind>(
  dir: string,
  spec: ListFile<K>,
  problems: Finding[],
): Promise<KindTypes[K][]> {
  const text = await readText(join(dir, spec.file));
  const fail = (message: string): KindTypes[K][] => {
    if (spec.required) throw new CollectError(message);
    problems.push(invalid(spec.file, message));
    return [];
  };
  // An optional file that is simply absent is not a problem (configmaps.json is opt-in).
  if (text === undefined && !spec.required) return [];
  if (text === undefined)
    return fail(`Cannot read bundle ${dir}: ${spec.file} is missing (write it with \`${spec.command}\`)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return fail(jsonErrorMessage(spec.file, text, error as SyntaxError));
  }
  try {
    const { items, problems: bad } = convertList(spec.kind, data, { file: spec.file, text });
    for (const p of bad) problems.push(invalid(p.file, p.message, p.line));
    return items;
  } catch (error) {
    if (error instanceof BundleSchemaError) return fail(error.message);
    throw error;
  }
}

/**
 * Reads `bundle.json` and `cluster/*.json` and lists the node directories.
 *
 * @throws {CollectError} When the directory or a required cluster file cannot be used.
 */
export async function readBundle(dir: string): Promise<Bundle> {
  try {
    if (!(await stat(dir)).isDirectory())
      throw new CollectError(`Cannot read bundle ${dir}: not a directory`);
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(
      `Cannot read bundle ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { cause: error },
    );
  }
  const problems: Finding[] = [];
  let meta: BundleMeta = { format: BUNDLE_FORMAT };
  const metaText = await readText(join(dir, "bundle.json"));
  if (metaText === undefined) {
    problems.push(
      invalid("bundle.json", `Cannot read bundle.json: it is missing; assuming ${BUNDLE_FORMAT}`),
    );
  } else {
    let raw: unknown;
    try {
      raw = JSON.parse(metaText);
    } catch (error) {
      throw new CollectError(jsonErrorMessage("bundle.json", metaText, error as SyntaxError));
    }
    const o = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    if (o.format !== BUNDLE_FORMAT) {
      throw new CollectError(
        `Cannot read bundle.json: "format" must be "${BUNDLE_FORMAT}", got ${JSON.stringify(o.format ?? null)}`,
      );
    }
    meta = {
      format: BUNDLE_FORMAT,
      ...(typeof o.cluster === "string" ? { cluster: o.cluster } : {}),
      ...(typeof o.collectedAt === "string" ? { collectedAt: o.collectedAt } : {}),
    };
  }
  const [pods, services, endpointSlices, nodes, configMaps] = [
    await readList(dir, CLUSTER_FILES.Pod, problems),
    await readList(dir, CLUSTER_FILES.Service, problems),
    await readList(dir, CLUSTER_FILES.EndpointSlice, problems),
    await readList(dir, CLUSTER_FILES.Node, problems),
    await readList(dir, CLUSTER_FILES.ConfigMap, problems),
  ];
  let nodeDirs: string[] = [];
  try {
    const entries = await readdir(join(dir, "nodes"), { withFileTypes: true });
    nodeDirs = entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    problems.push(
      invalid(
        "nodes/",
        "Cannot read nodes/: the bundle has no node directories, so no node's rules can be checked",
      ),
    );
  }
  for (const n of nodes) {
    if (!nodeDirs.includes(n.metadata.name)) {
      problems.push(
        invalid(
          `nodes/${n.metadata.name}/`,
          `Cannot check node "${n.metadata.name}": the bundle has no nodes/${n.metadata.name}/ directory`,
        ),
      );
    }
  }
  return { dir, meta, cluster: { pods, services, endpointSlices, nodes, configMaps }, nodeDirs, problems };
}

/** One node directory read in a single streaming pass. */
export interface BundleNode {
  readonly evidence: NodeEvidence;
  /** Absent when the dump could not be read. */
  readonly index?: KubeProxyIndex;
  /** The parsed dump (lazy), when asked for and readable. */
  readonly ruleset?: Ruleset;
  readonly problems: readonly Finding[];
}

/** Options of {@linkcode readBundleNode}. */
export interface ReadBundleNodeOptions {
  /** Also parse the dump (lazily) in the same pass, for the trace of the client node. */
  readonly ruleset?: boolean;
}

/** Streams a dump file of the bundle through `handler` in one pass over its bytes. */
async function readDumpFile(path: string, handler: DumpHandler, reuse: boolean): Promise<DumpReader> {
  const reader = new DumpReader(handler);
  for await (const chunk of dumpChunks(path, { reuse })) reader.push(chunk);
  reader.end();
  return reader;
}

async function small(dir: string, rel: string): Promise<EvidenceFile | undefined> {
  const text = await readText(join(dir, rel));
  return text === undefined ? undefined : { file: rel, text };
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
  const files = await readdir(join(bundleDir, rel));
  const iptablesVersion = await small(bundleDir, `${rel}/iptables-version.txt`);
  const k3sVersion = await small(bundleDir, `${rel}/k3s-version.txt`);
  const nftRuleset = await small(bundleDir, `${rel}/nft-ruleset.txt`);
  const saveErr = await small(bundleDir, `${rel}/iptables-save.err`);
  const saveExit = await readText(join(bundleDir, rel, "iptables-save.exit"));
  const otherErrors: EvidenceFile[] = [];
  for (const f of files.filter((f) => f.endsWith(".err") && f !== "iptables-save.err").sort()) {
    const e = await small(bundleDir, `${rel}/${f}`);
    if (e !== undefined) otherErrors.push(e);
  }
  const exitCode = saveExit === undefined ? undefined : Number.parseInt(saveExit.trim(), 10);
  const saveFailed = saveErr !== undefined && (exitCode === undefined || exitCode !== 0);

  let scan: NodeEvidence["scan"];
  let legacyScan: NodeEvidence["legacyScan"];
  let signatures: NodeEvidence["signatures"];
  let index: KubeProxyIndex | undefined;
  let ruleset: Ruleset | undefined;
  const dumpFile = `${rel}/iptables-save.txt`;
  if (files.includes("iptables-save.txt")) {
    const size = (await stat(join(bundleDir, dumpFile))).size;
    const scanner = new NodeScanner({ expectedRules: rulesInBytes(size) });
    const sig = new RuleSignatureScanner();
    const indexer = new KubeProxyIndexer();
    const builder = options.ruleset === true ? new RulesetBuilder({ lazy: true }) : undefined;
    try {
      const handlers = [scanner.handler, sig.handler, indexer.handler];
      if (builder !== undefined) handlers.push(builder.handler);
      // Chunks are reused unless the ruleset keeps them as its rules' text.
      const reader = await readDumpFile(
        join(bundleDir, dumpFile),
        composeHandlers(...handlers),
        builder === undefined,
      );
      scan = scanner.finish({ node, file: dumpFile, header: reader.header });
      signatures = sig.hits;
      index = indexer.finish();
      ruleset = builder?.finish(reader);
    } catch (error) {
      if (!(error instanceof DumpSyntaxError)) throw error;
      const msg = `Cannot parse ${dumpFile} at line ${error.line}, column ${error.column}: ${error.message}`;
      problems.push({ ...invalid(dumpFile, msg, error.line), node });
    }
  } else if (!saveFailed) {
    problems.push({
      ...invalid(
        `${rel}/`,
        `Cannot check node "${node}": ${dumpFile} is missing (write it with \`iptables-save > ${dumpFile}\`)`,
      ),
      node,
    });
  }
  if (files.includes("iptables-legacy-save.txt")) {
    const scanner = new NodeScanner();
    try {
      const reader = await readDumpFile(
        join(bundleDir, rel, "iptables-legacy-save.txt"),
        scanner.handler,
        true,
      );
      legacyScan = scanner.finish({ node, file: `${rel}/iptables-legacy-save.txt`, header: reader.header });
    } catch (error) {
      if (!(error instanceof DumpSyntaxError)) throw error;
      problems.push({
        ...invalid(
          `${rel}/iptables-legacy-save.txt`,
          `Cannot parse ${rel}/iptables-legacy-save.txt at line ${error.line}: ${error.message}`,
          error.line,
        ),
        node,
      });
    }
  }
  const evidence: NodeEvidence = {
    node,
    ...(scan === undefined ? {} : { scan }),
    ...(legacyScan === undefined ? {} : { legacyScan }),
    ...(signatures === undefined ? {} : { signatures }),
    ...(iptablesVersion === undefined ? {} : { iptablesVersion }),
    ...(k3sVersion === undefined ? {} : { k3sVersion }),
    ...(nftRuleset === undefined ? {} : { nftRuleset }),
    ...(saveErr === undefined
      ? {}
      : {
          saveError: {
            ...saveErr,
            ...(exitCode === undefined || Number.isNaN(exitCode) ? {} : { exitCode }),
          },
        }),
    ...(otherErrors.length === 0 ? {} : { otherErrors }),
  };
  return {
    evidence,
    ...(index === undefined ? {} : { index }),
    ...(ruleset === undefined ? {} : { ruleset }),
    problems,
  };
}
