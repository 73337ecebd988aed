/**
 * The Kubernetes API as a pod sees it, for a container that runs in a test's network namespace:
 * `https://127.0.0.1:6443` inside that namespace (KUBERNETES_SERVICE_HOST/PORT), a service-account
 * directory with `token` and `ca.crt` (mounted where the kubelet mounts it), and behind it the fake
 * API server of src/testing/fake-kube-api.ts.
 *
 * The namespace has no link to the machine's: a forwarder started inside it (`ip netns exec`)
 * accepts TCP on its loopback and relays each connection over a unix socket (file system, not
 * network) to a TLS server in this process, which terminates TLS with a throw-away certificate and
 * relays the plain HTTP to the fake.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Server } from "node:net";
import { join } from "node:path";
import { createServer } from "node:tls";
import type { FakeKubeApi } from "./fake-kube-api.ts";

/** Where the kubelet mounts a pod's service account. */
export const SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A running in-cluster endpoint. */
export interface InClusterApi {
  /** The environment the kubelet gives every container. */
  readonly env: Readonly<Record<string, string>>;
  /** `podman --volume` value mounting the service-account directory read-only. */
  readonly mount: string;
  close(): Promise<void>;
}

const FORWARDER = `
const net = require("node:net");
const [port, socket] = process.argv.slice(1);
const server = net.createServer((c) => {
  const up = net.connect(socket);
  c.pipe(up).pipe(c);
  c.on("error", () => up.destroy());
  up.on("error", () => c.destroy());
});
server.listen(Number(port), "127.0.0.1", () => console.log("ready"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

/**
 * Serves `fake` at https://127.0.0.1:`port` inside network namespace `netns`, with a certificate
 * for 127.0.0.1 made by openssl in `dir`. The token is the fake's (`fake-token` unless set).
 */
export async function startInClusterApi(
  fake: FakeKubeApi,
  options: { netns: string; dir: string; port?: number; token?: string },
): Promise<InClusterApi> {
  const port = options.port ?? 6443;
  const sa = join(options.dir, "serviceaccount");
  mkdirSync(sa, { recursive: true });
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=kubernetes",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc",
      "-keyout",
      join(options.dir, "tls.key"),
      "-out",
      join(sa, "ca.crt"),
    ],
    { stdio: "pipe" },
  );
  writeFileSync(join(sa, "token"), options.token ?? "fake-token");
  writeFileSync(join(sa, "namespace"), "netdoctor");
  const fakePort = Number(new URL(fake.url).port);
  const tls: Server = createServer(
    { key: readFileSync(join(options.dir, "tls.key")), cert: readFileSync(join(sa, "ca.crt")) },
    (client) => {
      const up = connect(fakePort, "127.0.0.1");
      client.pipe(up).pipe(client);
      client.on("error", () => up.destroy());
      up.on("error", () => client.destroy());
    },
  );
  const socket = join(options.dir, "api.sock");
  await new Promise<void>((resolve) => tls.listen(socket, resolve));
  const forwarder: ChildProcess = spawn(
    "ip",
    ["netns", "exec", options.netns, process.execPath, "-e", FORWARDER, String(port), socket],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let log = "";
  await new Promise<void>((resolve, reject) => {
    forwarder.stdout!.on("data", (d: Buffer) => {
      log += d;
      if (log.includes("ready")) resolve();
    });
    forwarder.stderr!.on("data", (d: Buffer) => (log += d));
    forwarder.once("exit", (code) => reject(new Error(`The API forwarder exited with ${code}: ${log}`)));
  });
  return {
    env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(port) },
    mount: `${sa}:${SERVICE_ACCOUNT_PATH}:ro`,
    close: async () => {
      forwarder.stdin!.end();
      if (forwarder.exitCode === null) await new Promise((r) => forwarder.once("exit", r));
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    },
  };
}
