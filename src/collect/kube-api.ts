import { existsSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { CollectError } from "./collect-error.ts";

/** An error status from the Kubernetes API, with the server's own message. */
export class KubeApiError extends CollectError {
  /** HTTP status code (403, 404, ...); 0 when the server could not be reached. */
  readonly status: number;
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KubeApiError";
    this.status = status;
  }
}

/** Where to find the cluster, as kubectl's flags say it. */
export interface KubeTarget {
  readonly kubeconfig?: string;
  readonly context?: string;
}

function statusMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() === "" ? undefined : body.trim().slice(0, 500);
    }
  }
  if (value !== null && typeof value === "object" && "message" in value) {
    const m = (value as { message: unknown }).message;
    if (typeof m === "string") return m;
  }
  return undefined;
}

/** Converts what the client library throws into a {@linkcode KubeApiError} naming what was attempted. */
export function toKubeApiError(action: string, error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (error instanceof ApiException) {
    const code = (error as ApiException<unknown>).code;
    const detail = statusMessage((error as ApiException<unknown>).body) ?? `HTTP ${code}`;
    return new KubeApiError(`Cannot ${action}: ${detail}`, code, { cause: error });
  }
  const e = error as { code?: string; message?: string };
  return new KubeApiError(`Cannot ${action}: ${e.code ?? e.message ?? String(error)}`, 0, { cause: error });
}

/** Whether a kubeconfig can be found the way kubectl finds one (flag, $KUBECONFIG, ~/.kube/config, in-cluster). */
export function kubeconfigAvailable(target: KubeTarget): boolean {
  if (target.kubeconfig !== undefined) return true;
  if (process.env.KUBECONFIG) return true;
  if (process.env.KUBERNETES_SERVICE_HOST) return true;
  return existsSync(join(homedir(), ".kube", "config"));
}

/**
 * The Kubernetes API through @kubernetes/client-node: typed calls for pods, and raw streaming GETs
 * (authenticated by the same KubeConfig) for large lists and pod logs, so they go to disk without
 * being held in memory or re-serialised.
 */
export class KubeApi {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  /** Cluster name of the current context (bundle.json's `cluster`). */
  readonly clusterName: string;

  constructor(config: KubeConfig) {
    this.config = config;
    this.core = config.makeApiClient(CoreV1Api);
    const ctx = config.getContextObject(config.getCurrentContext());
    this.clusterName = ctx?.cluster ?? config.getCurrentCluster()?.name ?? "unknown";
  }

  /** Loads a kubeconfig like kubectl: `--kubeconfig`, else $KUBECONFIG, ~/.kube/config or in-cluster. */
  static load(target: KubeTarget): KubeApi {
    const kc = new KubeConfig();
    try {
      if (target.kubeconfig !== undefined) kc.loadFromFile(target.kubeconfig);
      else kc.loadFromDefault();
    } catch (error) {
      throw new CollectError(
        `Cannot load kubeconfig${target.kubeconfig === undefined ? "" : ` "${target.kubeconfig}"`}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (target.context !== undefined) {
      if (kc.getContextObject(target.context) === null) {
        throw new CollectError(`Cannot use context "${target.context}": it is not in the kubeconfig`);
      }
      kc.setCurrentContext(target.context);
    }
    if (kc.getCurrentCluster() === null) throw new CollectError("Cannot find a cluster in the kubeconfig");
    return new KubeApi(kc);
  }

  /**
   * A raw GET (path plus query) returning the response stream; statuses >= 400 become
   * {@linkcode KubeApiError} with the server's message.
   */
  async get(path: string, options: { signal?: AbortSignal; action: string }): Promise<IncomingMessage> {
    const cluster = this.config.getCurrentCluster();
    if (cluster === null) throw new CollectError("Cannot find a cluster in the kubeconfig");
    const url = new URL(cluster.server.replace(/\/$/, "") + path);
    const opts: RequestOptions = {};
    await this.config.applyToHTTPSOptions(opts);
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(
        url,
        { ...opts, method: "GET", ...(options.signal ? { signal: options.signal } : {}) },
        resolve,
      );
      req.on("error", reject);
      req.end();
    }).catch((error: unknown) => {
      throw toKubeApiError(options.action, error);
    });
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      throw new KubeApiError(
        `Cannot ${options.action}: ${statusMessage(body) ?? `HTTP ${res.statusCode}`}`,
        res.statusCode ?? 0,
      );
    }
    return res;
  }

  /** A raw GET parsed as JSON. */
  async getJson(path: string, options: { signal?: AbortSignal; action: string }): Promise<unknown> {
    const res = await this.get(path, options);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      throw new KubeApiError(`Cannot ${options.action}: the server sent invalid JSON`, res.statusCode ?? 0, {
        cause: error,
      });
    }
  }
}
