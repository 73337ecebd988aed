/**
 * A real SSH server on 127.0.0.1 (ssh2's Server) for the SSH collection path: host key and one
 * authorised client key generated per test run, exec requests answered with canned outputs.
 */
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { Connection, ParsedKey, Server } from "ssh2";

const require = createRequire(import.meta.url);
const ssh2 = require("ssh2") as typeof import("ssh2");

/** What an exec request answers. */
export interface CannedExec {
  readonly stdout: string | Buffer;
  readonly stderr?: string;
  readonly exit: number;
}

/** A generated key pair in OpenSSH format. */
export interface TestKeyPair {
  readonly private: string;
  /** `ssh-ed25519 AAAA...` */
  readonly public: string;
}

/**
 * Generates an ed25519 key pair (in memory; the caller writes what it needs, mode 0600).
 *
 * ssh2 1.17's keygen strips leading zero bytes of the raw public key, so about 1 key in 256 cannot be
 * parsed back (mscdex/ssh2#1513); such keys are thrown away and generated again.
 */
export function generateTestKey(): TestKeyPair {
  for (let attempt = 0; attempt < 20; attempt++) {
    const k = ssh2.utils.generateKeyPairSync("ed25519");
    if (
      !(ssh2.utils.parseKey(k.public) instanceof Error) &&
      !(ssh2.utils.parseKey(k.private) instanceof Error)
    ) {
      return { private: k.private, public: k.public };
    }
  }
  throw new Error("Cannot generate a parsable ed25519 test key in 20 attempts");
}

export class SshTestServer {
  readonly hostKey = generateTestKey();
  readonly #clientKey: ParsedKey;
  readonly #answer: (command: string) => CannedExec;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  /** Every exec command line received, in order. */
  readonly commands: string[] = [];
  /** User names that authenticated. */
  readonly users: string[] = [];
  port = 0;

  constructor(options: { clientPublicKey: string; answer: (command: string) => CannedExec }) {
    const parsed = ssh2.utils.parseKey(options.clientPublicKey);
    if (parsed instanceof Error) throw parsed;
    this.#clientKey = parsed as ParsedKey;
    this.#answer = options.answer;
    this.#server = new ssh2.Server({ hostKeys: [this.hostKey.private] }, (client) => {
      this.#connections.add(client);
      client.on("close", () => this.#connections.delete(client));
      client.on("error", () => undefined);
      client.on("authentication", (ctx) => {
        if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
        const key = this.#clientKey;
        if (ctx.key.algo !== key.type || !ctx.key.data.equals(key.getPublicSSH())) return ctx.reject();
        if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
          return ctx.reject();
        // Without a signature the client only asks whether this key would do; count real logins only.
        if (ctx.signature) this.users.push(ctx.username);
        ctx.accept();
      });
      client.on("ready", () => {
        client.on("session", (accept) => {
          const session = accept();
          session.on("exec", (acceptExec, _reject, info) => {
            const stream = acceptExec();
            this.commands.push(info.command);
            const out = this.#answer(info.command);
            const data = Buffer.from(out.stdout);
            // Write in pieces so the client sees a stream, as with a real iptables-save.
            for (let i = 0; i < data.length; i += 32768) stream.write(data.subarray(i, i + 32768));
            if (out.stderr) stream.stderr.write(out.stderr);
            stream.exit(out.exit);
            stream.end();
          });
        });
      });
    });
  }

  /** The known_hosts line for this server. */
  knownHostsLine(): string {
    return `[127.0.0.1]:${this.port} ${this.hostKey.public.trim().split(/\s+/).slice(0, 2).join(" ")}\n`;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.#server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const c of this.#connections) c.end();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
