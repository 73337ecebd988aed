import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";

/** How to reach one node over SSH. */
export interface InventoryNode {
  /** Kubernetes node name (the bundle's `nodes/NODE/`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Private key file (OpenSSH or PEM); absent when the agent is used. */
  readonly keyFile?: string;
  /** Use the SSH agent at $SSH_AUTH_SOCK. */
  readonly agent: boolean;
  /** Run the commands with `sudo -n` (no password prompt: a prompt would hang the run). */
  readonly sudo: boolean;
}

/** A parsed inventory file. */
export interface Inventory {
  /** known_hosts file that host keys are checked against. */
  readonly knownHosts: string;
  readonly nodes: readonly InventoryNode[];
}

const FIELDS = new Set(["host", "port", "user", "keyFile", "agent", "sudo"]);

function expandPath(path: string, base: string): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(base, path);
}

/**
 * Parses an inventory (YAML):
 *
 * ```yaml
 * knownHosts: ~/.ssh/known_hosts        # default
 * defaults: {user: admin, keyFile: ~/.ssh/id_ed25519, sudo: true}
 * nodes:
 *   master1: {host: 192.0.2.10}
 *   agent1: {host: 192.0.2.11, port: 2222, user: root, agent: true, sudo: false}
 * ```
 *
 * @throws {CollectError} naming the file and the bad field
 */
export function parseInventory(text: string, file: string): Inventory {
  const fail = (detail: string): never => {
    throw new CollectError(`Cannot read inventory "${file}": ${detail}`);
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    return fail((error as Error).message.split("\n")[0] ?? "invalid YAML");
  }
  if (doc === null || typeof doc !== "object") return fail("expected a mapping with a nodes key");
  const root = doc as Record<string, unknown>;
  const base = dirname(resolve(file));
  const defaults = (root.defaults ?? {}) as Record<string, unknown>;
  if (typeof defaults !== "object") return fail("defaults: expected a mapping");
  const nodes = root.nodes;
  if (nodes === null || typeof nodes !== "object" || Array.isArray(nodes)) {
    return fail("nodes: expected a mapping of node name to {host, port, user, keyFile, agent, sudo}");
  }
  const out: InventoryNode[] = [];
  for (const [name, raw] of Object.entries(nodes as Record<string, unknown>)) {
    const entry = { ...defaults, ...((raw ?? {}) as Record<string, unknown>) };
    if (typeof raw !== "object" || raw === null) fail(`nodes.${name}: expected a mapping`);
    for (const key of Object.keys(entry)) if (!FIELDS.has(key)) fail(`nodes.${name}.${key}: unknown field`);
    const str = (key: string, fallback?: string): string | undefined => {
      const v = entry[key] ?? fallback;
      if (v !== undefined && typeof v !== "string") fail(`nodes.${name}.${key}: expected a string`);
      return v as string | undefined;
    };
    const bool = (key: string): boolean => {
      const v = entry[key] ?? false;
      if (typeof v !== "boolean") fail(`nodes.${name}.${key}: expected true or false`);
      return v as boolean;
    };
    const host = str("host") ?? fail(`nodes.${name}.host: missing`);
    const port = entry.port ?? 22;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`nodes.${name}.port: expected a port number`);
    }
    const keyFile = str("keyFile");
    const agent = bool("agent");
    if (keyFile === undefined && !agent) fail(`nodes.${name}: set keyFile or agent: true`);
    out.push({
      name,
      host,
      port: port as number,
      user: str("user", "root") as string,
      ...(keyFile === undefined ? {} : { keyFile: expandPath(keyFile, base) }),
      agent,
      sudo: bool("sudo"),
    });
  }
  if (out.length === 0) fail("nodes: no nodes listed");
  const knownHosts = root.knownHosts ?? "~/.ssh/known_hosts";
  if (typeof knownHosts !== "string") fail("knownHosts: expected a file path");
  return { knownHosts: expandPath(knownHosts as string, base), nodes: out };
}

/** Reads and parses an inventory file. */
export async function readInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CollectError(`Cannot read inventory "${file}": ${errorWords(error)}`);
  }
  return parseInventory(text, file);
}
