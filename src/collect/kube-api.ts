import { existsSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import { KubeApiError } from "./kube-api-error.ts";

export { KubeApiError } from "./kube-api-error.ts";

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

/** What a refused request needs, by HTTP status. */
function statusAdvice(status: number): string {
  if (status === 401)
    return " (HTTP 401: the kubeconfig's credentials were refused; is the token or certificate expired?)";
  if (status === 403)
    return " (HTTP 403: grant the read access of deploy/rbac-collect.yaml to the user of the kubeconfig)";
  return "";
}

/**
 * Converts what the client library throws into a {@linkcode KubeApiError} naming what was attempted;
 * a connection failure names the server (`server`, the API's URL) and says what happened in words.
 */
export function toKubeApiError(action: string, error: unknown, server?: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (error instanceof ApiException) {
    const code = (error as ApiException<unknown>).code;
    const detail = statusMessage((error as ApiException<unknown>).body) ?? `HTTP ${code}`;
    return new KubeApiError(`Cannot ${action}: ${detail}${statusAdvice(code)}`, code, { cause: error });
  }
  const e = error as { code?: unknown; name?: unknown };
  if (e?.name === "AbortError" || e?.name === "TimeoutError")
    return new KubeApiError(`Cannot ${action}: ${errorWords(error)}`, 0, { cause: error });
  const where = server === undefined ? "the Kubernetes API" : `the Kubernetes API at ${server}`;
  const detail =
    typeof e?.code === "string" ? `cannot connect to ${where}: ${errorWords(error)}` : errorWords(error);
  return new KubeApiError(`Cannot ${action}: ${detail}`, 0, { cause: error });
}

/** `~/.kube/config`. */
function defaultKubeconfig(): string {
  return join(homedir(), ".kube", "config");
}

/** Whether a kubeconfig can be found the way kubectl finds one (flag, $KUBECONFIG, ~/.kube/config, in-cluster). */
export function kubeconfigAvailable(target: KubeTarget): boolean {
  if (target.kubeconfig !== undefined) return true;
  if (process.env.KUBECONFIG) return true;
  if (process.env.KUBERNETES_SERVICE_HOST) return true;
  return existsSync(defaultKubeconfig());
}

/** Where kubectl (and netdoctor) look for a kubeconfig, and what to do when none is there. */
export function noKubeconfigMessage(): string {
  const k3s = existsSync(K3S_KUBECONFIG) ? ` (this machine has k3s's: --kubeconfig ${K3S_KUBECONFIG})` : "";
  return (
    `Cannot find a kubeconfig: no --kubeconfig, $KUBECONFIG is not set, ${defaultKubeconfig()} does not exist ` +
    `and this is not a pod ($KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig FILE or set KUBECONFIG${k3s}`
  );
}

/** Where k3s writes the admin kubeconfig on a server node. */
const K3S_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml";

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

  /** The API of the cluster this process runs in, as its pod's service account. */
  static inCluster(): KubeApi {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return new KubeApi(kc);
  }

  /**
   * Loads a kubeconfig like kubectl: `--kubeconfig`, else $KUBECONFIG, ~/.kube/config or in-cluster.
   *
   * @throws {CollectError} When there is none (naming every place looked at), it cannot be read, or
   *   it names no usable cluster.
   */
  static load(target: KubeTarget): KubeApi {
    if (!kubeconfigAvailable(target)) throw new CollectError(noKubeconfigMessage());
    const kc = new KubeConfig();
    const source =
      target.kubeconfig !== undefined
        ? `"${target.kubeconfig}"`
        : process.env.KUBECONFIG
          ? `"${process.env.KUBECONFIG}" (from $KUBECONFIG)`
          : existsSync(defaultKubeconfig())
            ? `"${defaultKubeconfig()}"`
            : "in-cluster";
    try {
      if (target.kubeconfig !== undefined) kc.loadFromFile(target.kubeconfig);
      else kc.loadFromDefault();
    } catch (error) {
      throw new CollectError(`Cannot load kubeconfig ${source}: ${errorWords(error)}`, { cause: error });
    }
    if (target.context !== undefined) {
      if (kc.getContextObject(target.context) === null) {
        throw new CollectError(
          `Cannot use context "${target.context}": it is not in the kubeconfig ${source}`,
        );
      }
      kc.setCurrentContext(target.context);
    }
    const cluster = kc.getCurrentCluster();
    if (cluster === null)
      throw new CollectError(`Cannot find a cluster in the kubeconfig ${source}: is it a kubeconfig file?`);
    if (cluster.server.startsWith("http:") && cluster.skipTLSVerify !== true) {
      throw new CollectError(
        `Cannot use the Kubernetes API at ${cluster.server} (kubeconfig ${source}): plain HTTP is refused unless the cluster entry sets insecure-skip-tls-verify: true; use the https:// address`,
      );
    }
    return new KubeApi(kc);
  }

  /** The API server's URL (`https://10.0.0.1:6443`). */
  get server(): string {
    return this.config.getCurrentCluster()?.server ?? "(unknown server)";
  }

  /** {@linkcode toKubeApiError} for this API's server. */
  error(action: string, error: unknown): KubeApiError {
    return toKubeApiError(action, error, this.server);
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
      throw toKubeApiError(options.action, error, cluster.server);
    });
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      throw new KubeApiError(
        `Cannot ${options.action}: ${statusMessage(body) ?? `HTTP ${res.statusCode}`}${statusAdvice(res.statusCode ?? 0)}`,
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
