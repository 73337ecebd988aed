import { chmod, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EndpointApis } from "./cluster-lists.ts";
import { CollectError } from "./collect-error.ts";
import type { CommandResult } from "./command-result.ts";
import { errorWords } from "./errno-words.ts";
import { commandAbsent, NODE_COMMANDS, type NodeCommand, outputFile } from "./node-commands.ts";
import { checkOutDir } from "./staged-dir.ts";

/** The `format` value of bundle.json. */
export const BUNDLE_FORMAT = "netdoctor-bundle/v1";

/** Files are 0600 and directories 0700: a bundle holds a cluster's topology and addresses. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

const NODE_NAME = /^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/;

/** Throws unless `node` is safe as a directory name (Kubernetes node names always are). */
export function checkNodeName(node: string): void {
  if (!NODE_NAME.test(node) || node.length > 253) {
    throw new CollectError(`Cannot use node name "${node}": expected a DNS name (letters, digits, "-", ".")`);
  }
}

/**
 * Creates a bundle directory in place (0700, with `cluster/` and `nodes/`), for writers that build a
 * bundle in one go (test labs); `collect` writes through a staging directory instead (staged-dir.ts).
 *
 * @throws {CollectError} When `out` is a file or a non-empty directory, or cannot be created.
 */
export async function createBundleDir(out: string): Promise<void> {
  await checkOutDir(out, "the bundle");
  try {
    await mkdir(out, { recursive: true, mode: DIR_MODE });
    await chmod(out, DIR_MODE);
  } catch (error) {
    throw new CollectError(`Cannot create bundle directory "${out}": ${errorWords(error)}`, { cause: error });
  }
  await createBundleLayout(out);
}

/** Creates `cluster/` and `nodes/` (0700) in a new, empty bundle directory. */
export async function createBundleLayout(dir: string): Promise<void> {
  try {
    await mkdir(join(dir, "cluster"), { mode: DIR_MODE });
    await mkdir(join(dir, "nodes"), { mode: DIR_MODE });
  } catch (error) {
    throw new CollectError(`Cannot create the bundle in "${dir}": ${errorWords(error)}`, { cause: error });
  }
}

/** Writes one bundle file with mode 0600. */
export async function writeBundleFile(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: FILE_MODE });
  await chmod(path, FILE_MODE); // writeFile keeps the mode of a file that already existed
}

/** Writes bundle.json; `endpointApis` records what the server served and which endpoint lists were taken. */
export async function writeBundleJson(
  out: string,
  meta: { cluster: string; collectedAt: string; endpointApis?: EndpointApis },
): Promise<void> {
  const doc = {
    format: BUNDLE_FORMAT,
    cluster: meta.cluster,
    collectedAt: meta.collectedAt,
    ...(meta.endpointApis === undefined ? {} : { endpointApis: meta.endpointApis }),
  };
  await writeBundleFile(join(out, "bundle.json"), `${JSON.stringify(doc, null, 2)}\n`);
}

/** Creates `nodes/NODE/` (0700) and returns its path. */
export async function createNodeDir(out: string, node: string): Promise<string> {
  checkNodeName(node);
  const dir = join(out, "nodes", node);
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  return dir;
}

/** How one command ended up in the bundle. */
export interface CommandOutcome {
  readonly stem: string;
  /** `ok` wrote `<stem>.txt`; `failed` wrote `.err`/`.exit`; `absent` wrote nothing (optional binary missing). */
  readonly status: "ok" | "failed" | "absent";
  readonly exit?: number;
  /** First line of stderr of a failed command. */
  readonly error?: string;
}

/**
 * Moves command results into the node directory: `<stem>.txt` (or the command's `file`) on success, `<stem>.err` and
 * `<stem>.exit` on failure (partial stdout of a failed command is dropped: a cut dump must not
 * pass for a whole one), nothing for an optional command whose binary is absent.
 */
export async function writeNodeResults(
  dir: string,
  results: readonly CommandResult[],
  commands: readonly NodeCommand[] = NODE_COMMANDS,
): Promise<CommandOutcome[]> {
  const outcomes: CommandOutcome[] = [];
  for (const command of commands) {
    const r = results.find((x) => x.stem === command.stem);
    if (r === undefined) {
      outcomes.push({ stem: command.stem, status: "failed", error: "the node sent no result" });
      await writeBundleFile(
        join(dir, `${command.stem}.err`),
        "netdoctor: the node sent no result for this command\n",
      );
      continue;
    }
    if (r.exit === 0) {
      await rename(r.stdoutPath, join(dir, outputFile(command)));
      await chmod(join(dir, outputFile(command)), FILE_MODE);
      outcomes.push({ stem: command.stem, status: "ok", exit: 0 });
      continue;
    }
    await rm(r.stdoutPath, { force: true });
    if (command.optional && commandAbsent(r.exit, r.stderr)) {
      outcomes.push({ stem: command.stem, status: "absent", exit: r.exit });
      continue;
    }
    await writeBundleFile(join(dir, `${command.stem}.err`), r.stderr);
    await writeBundleFile(join(dir, `${command.stem}.exit`), `${r.exit}\n`);
    const first = r.stderr.split("\n").find((l) => l.trim() !== "");
    outcomes.push({ stem: command.stem, status: "failed", exit: r.exit, error: first ?? "(empty stderr)" });
  }
  for (const r of results) {
    if (!commands.some((c) => c.stem === r.stem)) await rm(r.stdoutPath, { force: true });
  }
  return outcomes;
}

/**
 * Records a node that could not be collected at all (pod rejected, timeout, SSH failure):
 * `iptables-save.err` holds the reason. No `.exit` is written because no command ran, so there is
 * no exit code to report.
 */
export async function writeNodeFailure(dir: string, message: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.endsWith(".part")) await rm(join(dir, name), { force: true });
  }
  await writeBundleFile(
    join(dir, "iptables-save.err"),
    `netdoctor: could not collect from this node: ${message}\n`,
  );
}
