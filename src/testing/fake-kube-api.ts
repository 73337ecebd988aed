/**
 * A fake Kubernetes API server on 127.0.0.1 for collect tests: list endpoints from recorded-style
 * JSON (with limit/continue paging and label selectors), pod create/get/list/delete with a timed
 * lifecycle, and pod logs carrying the collector's framed output. Per-node behaviours reproduce
 * the failures collect must survive. It tracks every pod so tests can prove none is left.
 */
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { sendStatus } from "./fake-kube-responses.ts";
import { type FakeListSources, serveList } from "./fake-list-routes.ts";
import { fakeNodeOutputs } from "./fake-node-outputs.ts";
import type { FakeNodeBehavior, FakePod } from "./fake-pod.ts";
import { servePods } from "./fake-pod-routes.ts";
import type { FakeCommandOutput } from "./frame-encoder.ts";

export { FAILING_IPTABLES_STDERR, smallDump } from "./fake-node-outputs.ts";
export type { FakeNodeBehavior } from "./fake-pod.ts";

export interface FakeKubeApiOptions extends FakeListSources {
  readonly behavior?: (node: string) => FakeNodeBehavior;
  /** iptables-save text per node (default: a small kube-proxy dump). */
  readonly dump?: (node: string) => string;
  /** A node's other bundle files by name (e.g. `ip-route.json`): the commands that make them print them. */
  readonly hostFile?: (node: string, file: string) => string | undefined;
  /** Milliseconds a pod stays Pending, then Running (defaults 30 and 30). */
  readonly pendingMs?: number;
  readonly runningMs?: number;
  /** Bearer token the server demands. */
  readonly token?: string;
}

export class FakeKubeApi {
  readonly #options: FakeKubeApiOptions;
  readonly #server: Server;
  readonly #pods = new Map<string, FakePod>();
  /** Names of every pod ever created, in order. */
  readonly created: string[] = [];
  /** Names of every pod deleted. */
  readonly deleted: string[] = [];
  /** Every request as `METHOD path` (query included). */
  readonly requests: string[] = [];
  #url = "";

  constructor(options: FakeKubeApiOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendStatus(res, 500, String(error));
        else res.destroy();
      });
    });
  }

  /** Base URL once started. */
  get url(): string {
    return this.#url;
  }

  /** Pods that exist now. */
  livePods(): string[] {
    return [...this.#pods.keys()];
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Writes a kubeconfig for this server (plain HTTP needs insecure-skip-tls-verify in client-node 1.x). */
  writeKubeconfig(dir: string): string {
    const path = join(dir, "kubeconfig.yaml");
    writeFileSync(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: fake-cluster`,
        "  cluster:",
        `    server: ${this.#url}`,
        "    insecure-skip-tls-verify: true",
        "users:",
        "- name: tester",
        "  user:",
        `    token: ${this.#options.token ?? "fake-token"}`,
        "contexts:",
        "- name: fake",
        "  context:",
        "    cluster: fake-cluster",
        "    user: tester",
        "current-context: fake",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    return path;
  }

  /** The outputs a node's commands produce under its behaviour. */
  nodeOutputs(node: string, behavior: FakeNodeBehavior): FakeCommandOutput[] {
    return fakeNodeOutputs(node, behavior, { dump: this.#options.dump, hostFile: this.#options.hostFile });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Bearer ${this.#options.token ?? "fake-token"}`) {
      return sendStatus(res, 401, "Unauthorized", "Unauthorized");
    }
    if (serveList(req, res, { url, sources: this.#options })) return;
    const store = { pods: this.#pods, created: this.created, deleted: this.deleted, options: this.#options };
    return servePods(req, res, { url, store });
  }
}
