import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeApi } from "../collect/kube-api.ts";
import { ExporterMetrics } from "./exporter-metrics.ts";
import { type SampleCommands, Sampler } from "./sampler.ts";
import { ServiceRulesChecker } from "./service-rules.ts";

/** Options of {@linkcode startExporter}. */
export interface ExporterOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly node: string;
  readonly commands: SampleCommands;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Export the exporter's own process metrics (default true). */
  readonly processMetrics?: boolean;
  /** With API access: compare kube-proxy's rules with Services/EndpointSlices every `everyMs`. */
  readonly api?: { readonly client: KubeApi; readonly everyMs: number };
  readonly log?: (line: string) => void;
}

/** A running exporter. */
export interface Exporter {
  readonly url: string;
  readonly port: number;
  readonly sampler: Sampler;
  readonly metrics: ExporterMetrics;
  readonly server: Server;
  close(): Promise<void>;
}

/** Answers one HTTP request: `/metrics` (the cached values), `/healthz`, `/`, 404 elsewhere. */
function serve(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { readonly metrics: ExporterMetrics; readonly sampler: Sampler; readonly stuckAfter: number },
): void {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  if (path === "/metrics") {
    ctx.metrics.serialize().then(
      (body) => res.writeHead(200, { "content-type": ctx.metrics.contentType }).end(body),
      (error: unknown) => res.writeHead(500).end(`Cannot serialize metrics: ${String(error)}\n`),
    );
    return;
  }
  if (path === "/healthz") {
    const idle = Date.now() / 1000 - ctx.sampler.stats.lastFinished;
    const stuck = idle > ctx.stuckAfter;
    res.writeHead(stuck ? 503 : 200, { "content-type": "text/plain" });
    res.end(stuck ? `sampling has been stuck for ${Math.round(idle)} s\n` : "ok\n");
    return;
  }
  if (path === "/") {
    res.writeHead(200, { "content-type": "text/html" });
    res.end('<html><body><h1>netdoctor exporter</h1><p><a href="/metrics">/metrics</a></p></body></html>\n');
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
}

/**
 * Starts the exporter: the sampling loop and an HTTP server with `/metrics` (the cached values)
 * and `/healthz` (the loop is alive: a sample finished lately).
 */
export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const metrics = new ExporterMetrics({
    node: options.node,
    processMetrics: options.processMetrics ?? true,
    serviceRules: options.api !== undefined,
  });
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const serviceRules =
    options.api === undefined
      ? undefined
      : new ServiceRulesChecker({
          api: options.api.client,
          node: options.node,
          everyMs: options.api.everyMs,
          timeoutMs: options.timeoutMs,
          metrics,
          log,
        });
  const sampler = new Sampler({
    node: options.node,
    commands: options.commands,
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    metrics,
    log,
    ...(serviceRules === undefined ? {} : { serviceRules }),
  });
  // Liveness must not fail because iptables-save fails (a restart would not help); only a stuck loop.
  // A sample runs up to four commands, each killed at the timeout.
  const stuckAfter = (3 * options.intervalMs + 4 * options.timeoutMs) / 1000;
  const server = createServer((req, res) => serve(req, res, { metrics, sampler, stuckAfter }));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  sampler.start();
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${port}`,
    port,
    sampler,
    metrics,
    server,
    async close() {
      await sampler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
