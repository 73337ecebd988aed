/**
 * Reads a bundle's host network evidence (docs/bundle.md: ip-*.json, bridge-fdb.json, sysctl.txt,
 * lsmod.txt, flannel-subnet.env, ethtool-k-flannel.1.txt, conntrack.txt) for every node directory,
 * flannel's node annotations from cluster/nodes.json, and the iptables rules (with their ipset-save.txt
 * and ipvsadm.txt) of the nodes asked for,
 * into the pure {@linkcode HostPathInput} of the multi-hop trace and diagnose's path links. A file
 * that is absent is recorded as missing (the checks that need it say undecided).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { nodeExtrasFromJson } from "../hostnet/flannel-node.ts";
import { HOST_FILES, type HostEvidence, parseHostEvidence } from "../hostnet/host-evidence.ts";
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { IpvsTable } from "../ipvs/ipvs-model.ts";
import { parseIpvsadm } from "../ipvs/parse-ipvsadm.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { type HostPathInput, hostPathInput } from "../trace/host-path-input.ts";
import { CollectError } from "./collect-error.ts";
import { readBundle } from "./read-bundle.ts";
import { readDump } from "./read-dump.ts";
import { readNodeIpsets } from "./read-node-ipsets.ts";

/** Options of {@linkcode readHostEvidence}. */
export interface ReadHostEvidenceOptions {
  /** Nodes whose iptables-save.txt to parse (default: every node directory). */
  readonly rulesOf?: readonly string[];
  /**
   * Nodes whose conntrack.txt to parse (default: every node directory); on the others it counts as
   * not read (up to 20,000 entries a node: a question needs only its client's).
   */
  readonly conntrackOf?: readonly string[];
  /** The bundle's API side when the caller has read it already. */
  readonly cluster?: ClusterState;
  /** The bundle's node directories when the caller has read them already. */
  readonly nodeDirs?: readonly string[];
}

async function optional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** A node's `ipvsadm -Sn` (nodes/NODE/ipvsadm.txt), parsed; undefined when absent. */
async function optionalIpvs(dir: string, node: string): Promise<IpvsTable | undefined> {
  const file = `nodes/${node}/ipvsadm.txt`;
  const text = await optional(join(dir, file));
  return text === undefined ? undefined : parseIpvsadm(text, { file });
}

/** The rule-side files of one node whose rules are read: its ipsets and IPVS table, when present. */
async function nodeSets(
  dir: string,
  node: string,
  into: { readonly ipsets: Map<string, IpsetSave>; readonly ipvs: Map<string, IpvsTable> },
): Promise<void> {
  const sets = await readNodeIpsets(dir, node);
  if (sets !== undefined) into.ipsets.set(node, sets);
  const table = await optionalIpvs(dir, node);
  if (table !== undefined) into.ipvs.set(node, table);
}

async function optionalDump(path: string): Promise<Ruleset | undefined> {
  try {
    return await readDump(path, { lazy: true });
  } catch (error) {
    if (error instanceof CollectError || error instanceof DumpSyntaxError) return undefined;
    throw error;
  }
}

/** Parses one node directory's host files (each optional; conntrack.txt only when asked). */
export async function readNodeHostFiles(
  dir: string,
  node: string,
  options: { readonly conntrack?: boolean } = {},
): Promise<HostEvidence> {
  const files: Record<string, string> = {};
  for (const name of Object.values(HOST_FILES)) {
    if (name === HOST_FILES.conntrack && options.conntrack === false) continue;
    const text = await optional(join(dir, "nodes", node, name));
    if (text !== undefined) files[name] = text;
  }
  return parseHostEvidence(files, { node, dir: `nodes/${node}` });
}

/**
 * Reads `dir` (a netdoctor bundle) for the path across nodes.
 *
 * @example
 * ```ts
 * const input = await readHostEvidence("bundle", { rulesOf: ["node-a", "node-b"] });
 * input.hosts.get("node-a")?.missing; // [] when every host file was collected
 * ```
 * @throws {CollectError} When the bundle's required cluster files cannot be read.
 */
export async function readHostEvidence(
  dir: string,
  options: ReadHostEvidenceOptions = {},
): Promise<HostPathInput> {
  const bundle =
    options.cluster === undefined || options.nodeDirs === undefined ? await readBundle(dir) : undefined;
  const cluster = options.cluster ?? bundle!.cluster;
  const nodeDirs = options.nodeDirs ?? bundle!.nodeDirs;
  const extras = nodeExtrasFromJson((await optional(join(dir, "cluster", "nodes.json"))) ?? "");
  const hosts = new Map<string, HostEvidence>();
  const rulesets = new Map<string, Ruleset>();
  const ipsets = new Map<string, IpsetSave>();
  const ipvs = new Map<string, IpvsTable>();
  const rulesOf = new Set(options.rulesOf ?? nodeDirs);
  const conntrackOf = new Set(options.conntrackOf ?? nodeDirs);
  for (const node of nodeDirs) {
    hosts.set(node, await readNodeHostFiles(dir, node, { conntrack: conntrackOf.has(node) }));
    if (!rulesOf.has(node)) continue;
    const rs = await optionalDump(join(dir, "nodes", node, "iptables-save.txt"));
    if (rs === undefined) continue;
    rulesets.set(node, rs);
    await nodeSets(dir, node, { ipsets, ipvs });
  }
  return hostPathInput(cluster, { hosts, extras, rulesets, ipsets, ipvs });
}

/** Reads a node's parsed dump, or undefined when it cannot be read or parsed. */
export type ReadNodeRules = (node: string) => Promise<Ruleset | undefined>;

/**
 * Adds the rules of `nodes` that are not read yet (and whose dumps parse) to `input`: a path that
 * reached a node whose rules the first reading left out is evaluated again with them. `readRules`
 * reads them instead of a parse of their own (diagnose shares one parse per node, issue 14).
 */
export async function withRulesOf(
  dir: string,
  input: HostPathInput,
  nodes: Iterable<string>,
  readRules: ReadNodeRules = (node) => optionalDump(join(dir, "nodes", node, "iptables-save.txt")),
): Promise<HostPathInput | undefined> {
  const more = new Map(input.rulesets);
  const sets = { ipsets: new Map(input.ipsets), ipvs: new Map(input.ipvs) };
  for (const node of nodes) {
    if (more.has(node) || !input.hosts.has(node)) continue;
    const rs = await readRules(node);
    if (rs === undefined) continue;
    more.set(node, rs);
    await nodeSets(dir, node, sets);
  }
  return more.size === input.rulesets.size ? undefined : { ...input, rulesets: more, ...sets };
}
