import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import { boundedText, type CommandResult, MAX_STDERR_BYTES } from "./command-result.ts";
import { errorWords } from "./errno-words.ts";
import type { InventoryNode } from "./inventory.ts";
import { verifyHostKey } from "./known-hosts.ts";
import { NodeCollectError } from "./node-collect-error.ts";
import { NODE_COMMANDS, type NodeCommand } from "./node-commands.ts";

/** Options of {@linkcode collectNodeViaSsh}. */
export interface SshCollectOptions {
  /** known_hosts text; ignored (with a loud warning from the CLI) when `insecureIgnoreHostKey`. */
  readonly knownHosts: string;
  readonly insecureIgnoreHostKey: boolean;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Node directory for temp files. */
  readonly dir: string;
  readonly commands?: readonly NodeCommand[];
}

type Ssh2 = typeof import("ssh2");
let ssh2: Promise<Ssh2> | undefined;

/** ssh2 loads optional native addons, so only the SSH path imports it, and only once. */
function loadSsh2(): Promise<Ssh2> {
  ssh2 ??= import("ssh2").then((m) => ((m as { default?: Ssh2 }).default ?? m) as Ssh2);
  return ssh2;
}

/** The command line for one command: the node's own binary, through `sudo -n` when configured. */
export function sshCommandLine(command: NodeCommand, sudo: boolean): string {
  const words = command.argv.map((w) =>
    /^[A-Za-z0-9._-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`,
  );
  return `${sudo ? "sudo -n " : ""}${words.join(" ")}`;
}

function runOne(
  conn: Client,
  command: NodeCommand,
  node: InventoryNode,
  dir: string,
): Promise<CommandResult> {
  const stdoutPath = join(dir, `${command.stem}.stdout.part`);
  return new Promise((resolve, reject) => {
    conn.exec(sshCommandLine(command, node.sudo), (err: Error | undefined, stream: ClientChannel) => {
      if (err) return reject(new NodeCollectError(`cannot run ${command.argv[0]} over SSH: ${err.message}`));
      const file = createWriteStream(stdoutPath, { mode: 0o600 });
      let stdoutBytes = 0;
      const errChunks: Buffer[] = [];
      let errBytes = 0;
      let exit = 255;
      stream.on("data", (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (!file.write(chunk)) {
          stream.pause();
          file.once("drain", () => stream.resume());
        }
      });
      stream.stderr.on("data", (chunk: Buffer) => {
        if (errBytes < MAX_STDERR_BYTES) errChunks.push(chunk);
        errBytes += chunk.length;
      });
      stream.on("exit", (code: number | null) => {
        if (typeof code === "number") exit = code;
      });
      stream.on("close", () => {
        file.end(() =>
          resolve({
            stem: command.stem,
            exit,
            stdoutPath,
            stdoutBytes,
            stderr: boundedText(errChunks, errBytes),
          }),
        );
      });
      file.on("error", (e) => reject(e));
    });
  });
}

async function connectConfig(node: InventoryNode, options: SshCollectOptions): Promise<ConnectConfig> {
  const config: ConnectConfig = {
    host: node.host,
    port: node.port,
    username: node.user,
    readyTimeout: Math.min(options.timeoutMs, 20_000),
    hostVerifier: (key: Buffer) => {
      if (options.insecureIgnoreHostKey) return true;
      const verdict = verifyHostKey(options.knownHosts, node.host, node.port, key);
      if (!verdict.ok) hostKeyProblem.set(node.name, verdict.reason);
      return verdict.ok;
    },
  };
  if (node.keyFile !== undefined) {
    try {
      config.privateKey = await readFile(node.keyFile);
    } catch (error) {
      throw new NodeCollectError(`cannot read key file "${node.keyFile}": ${errorWords(error)}`);
    }
  }
  if (node.agent) {
    if (!process.env.SSH_AUTH_SOCK) throw new NodeCollectError("agent: true but SSH_AUTH_SOCK is not set");
    config.agent = process.env.SSH_AUTH_SOCK;
  }
  return config;
}

/** Why the last host key check of a node failed (ssh2 only reports a generic handshake error). */
const hostKeyProblem = new Map<string, string>();

/**
 * Collects one node over SSH: one connection, the node commands one after another (stdout
 * streamed to temp files). Host keys are checked against known_hosts unless explicitly disabled.
 * Throws {@linkcode NodeCollectError} when the node cannot be reached or the time runs out.
 */
export async function collectNodeViaSsh(
  node: InventoryNode,
  options: SshCollectOptions,
): Promise<CommandResult[]> {
  const { Client } = await loadSsh2();
  const config = await connectConfig(node, options);
  const conn = new Client();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () =>
      reject(
        new NodeCollectError(
          options.signal.aborted
            ? "interrupted"
            : `timed out after ${options.timeoutMs / 1000}s over SSH to ${node.host}`,
        ),
      );
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    await Promise.race([
      aborted,
      new Promise<void>((resolve, reject) => {
        conn.once("ready", () => resolve());
        conn.once("error", (err: Error) => {
          const hostKey = hostKeyProblem.get(node.name);
          hostKeyProblem.delete(node.name);
          reject(
            new NodeCollectError(
              hostKey !== undefined
                ? `refusing to connect to ${node.host}: ${hostKey}`
                : `cannot connect to ${node.user}@${node.host}:${node.port}: ${errorWords(err)}`,
            ),
          );
        });
        try {
          conn.connect(config);
        } catch (error) {
          // e.g. a passphrase-protected key: ssh2 throws before connecting (use agent: true for those).
          reject(new NodeCollectError(`cannot connect to ${node.host}: ${(error as Error).message}`));
        }
      }),
    ]);
    const results: CommandResult[] = [];
    for (const command of options.commands ?? NODE_COMMANDS) {
      results.push(await Promise.race([aborted, runOne(conn, command, node, options.dir)]));
    }
    return results;
  } finally {
    conn.end();
  }
}
