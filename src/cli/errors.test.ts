/**
 * Issue 12 item 9: every condition a user causes is one line on stderr with the fix, exit 2, and
 * nothing half-written is left behind. The built CLI is run as a user would run it.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";
import { FakeKubeApi } from "../testing/fake-kube-api.ts";

const CLI = resolve("dist/netdoctor.mjs");
const work = mkdtempSync(join(tmpdir(), "nd-errors-"));
chmodSync(work, 0o755); // the unprivileged runs below need to reach their files
afterAll(() => rmSync(work, { recursive: true, force: true }));
let servers: FakeKubeApi[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A clean environment: no kubeconfig anywhere unless given, temp files in a private directory. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(work, "home-"));
  const { KUBECONFIG: _k, KUBERNETES_SERVICE_HOST: _s, NETDOCTOR_DEBUG: _d, ...rest } = process.env;
  return { ...rest, HOME: home, TMPDIR: mkdtempSync(join(work, "tmp-")), ...extra };
}

/** Runs the CLI asynchronously (the fake API server answers on this process's event loop). */
function run(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? work,
      env: options.env ?? env(),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** One line on stderr, exit 2, nothing on stdout. */
function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, message: string | RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
  expect(r.stderr.trimEnd()).toMatch(
    typeof message === "string" ? new RegExp(`^${escapeRegExp(message)}$`) : message,
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function fake(options: ConstructorParameters<typeof FakeKubeApi>[0]) {
  const api = new FakeKubeApi(options);
  servers.push(api);
  await api.start();
  return { api, kubeconfig: api.writeKubeconfig(mkdtempSync(join(work, "kc-"))) };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("collect and diagnose --live without a usable cluster", () => {
  test("no kubeconfig: names every place looked at and what to do; no bundle directory is left", async () => {
    const e = env();
    const r = await run(["collect", "--out", "c1"], { env: e });
    expectOneLine(
      r,
      `netdoctor: Cannot find a kubeconfig: no --kubeconfig, $KUBECONFIG is not set, ${e.HOME}/.kube/config does not exist and this is not a pod ($KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig FILE or set KUBECONFIG`,
    );
    expect(existsSync(join(work, "c1"))).toBe(false);
    // A retry finds nothing in its way: the same error again, not "directory is not empty".
    expect((await run(["collect", "--out", "c1"], { env: e })).stderr).toBe(r.stderr);
  });

  test("a refused connection names the server and says it in words; diagnose --live leaves no temp dir", async () => {
    const port = await closedPort();
    const kc = join(mkdtempSync(join(work, "kc-")), "kubeconfig");
    writeFileSync(
      kc,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}\n` +
        "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
    );
    const message = `netdoctor: Cannot discover the API group discovery.k8s.io: cannot connect to the Kubernetes API at https://127.0.0.1:${port}: connection refused`;
    expectOneLine(await run(["collect", "--out", "c2", "--kubeconfig", kc]), message);
    expect(readdirSync(work).filter((f) => f.startsWith("c2") || f.startsWith(".c2"))).toEqual([]);
    const e = env();
    expectOneLine(await run(["diagnose", "--live", "--kubeconfig", kc], { env: e }), message);
    expect(readdirSync(e.TMPDIR!)).toEqual([]);
  });

  test("no access (403) names the verb, the resource and deploy/rbac-collect.yaml", async () => {
    const { kubeconfig } = await fake({ nodes: [{ name: "a1" }], forbid: ["/api/v1/nodes"] });
    expectOneLine(
      await run(["collect", "--out", "c3", "--kubeconfig", kubeconfig]),
      /^netdoctor: Cannot list Nodes \(\/api\/v1\/nodes\): nodes is forbidden: User "tester" cannot list resource "nodes" .*\(HTTP 403: grant the read access of deploy\/rbac-collect\.yaml to the user of the kubeconfig\)$/,
    );
    expect(existsSync(join(work, "c3"))).toBe(false);
  });

  test("refused credentials (401) say so", async () => {
    const { kubeconfig } = await fake({ nodes: [{ name: "a1" }], token: "right" });
    writeFileSync(kubeconfig, readFileSync(kubeconfig, "utf8").replace("token: right", "token: wrong"));
    expectOneLine(
      await run(["collect", "--out", "c4", "--kubeconfig", kubeconfig]),
      /^netdoctor: Cannot discover the API group discovery\.k8s\.io: Unauthorized \(HTTP 401: the kubeconfig's credentials were refused/,
    );
  });

  test("a non-empty --out is refused before the cluster is contacted", async () => {
    const { api, kubeconfig } = await fake({ nodes: [{ name: "a1" }] });
    mkdirSync(join(work, "c5"));
    writeFileSync(join(work, "c5", "keep.txt"), "mine\n");
    expectOneLine(
      await run(["collect", "--out", "c5", "--kubeconfig", kubeconfig]),
      'netdoctor: Cannot write the bundle to "c5": the directory is not empty (pick a new directory, or remove it)',
    );
    expect(api.requests).toEqual([]);
    expect(readdirSync(join(work, "c5"))).toEqual(["keep.txt"]);
  });
});

describe("files that cannot be used", () => {
  test("scan: a missing file and a directory are one line each", async () => {
    expectOneLine(
      await run(["scan", "nope.txt"]),
      'netdoctor: Cannot read dump "nope.txt": no such file or directory',
    );
    expectOneLine(await run(["scan", work]), `netdoctor: Cannot read dump "${work}": it is a directory`);
  });

  test("demo --out: an existing file, a non-empty directory and a missing parent are one line each", async () => {
    writeFileSync(join(work, "taken"), "x");
    expectOneLine(
      await run(["demo", "--out", "taken"]),
      'netdoctor: Cannot write the demo bundle to "taken": it is a file, not a directory',
    );
    expectOneLine(
      await run(["demo", "--out", "c5"]),
      'netdoctor: Cannot write the demo bundle to "c5": the directory is not empty (pick a new directory, or remove it)',
    );
    expectOneLine(
      await run(["demo", "--out", "no/such/dir"]),
      `netdoctor: Cannot write the demo bundle to "no/such/dir": its parent directory ${join(work, "no/such")}: no such file or directory`,
    );
  });

  const noSetpriv =
    process.getuid?.() !== 0
      ? skipBecause("not running as root (needed to drop to an unprivileged user)", "permission-denied runs")
      : skipBecause(commandUnavailable("setpriv"), "permission-denied runs");
  test.skipIf(noSetpriv)("as an unprivileged user: an unreadable dump and an unwritable place", () => {
    const secret = join(work, "secret.txt");
    writeFileSync(secret, "*nat\nCOMMIT\n", { mode: 0o600 });
    const locked = join(work, "locked");
    mkdirSync(locked, { mode: 0o555 });
    // The checkout may sit under a directory only root can enter (CI clones into a mktemp -d): the
    // unprivileged user runs a copy of the self-contained dist/ from a place anyone can read.
    const shared = mkdtempSync(join(tmpdir(), "nd-errors-cli-"));
    chmodSync(shared, 0o755);
    cpSync(dirname(CLI), shared, { recursive: true });
    const cli = join(shared, basename(CLI));
    const asNobody = (args: string[]) =>
      spawnSync(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, cli, ...args],
        {
          encoding: "utf8",
          cwd: work,
          env: env(),
        },
      );
    const read = asNobody(["scan", secret]);
    expectOneLine(
      { code: read.status, stdout: read.stdout, stderr: read.stderr },
      `netdoctor: Cannot read "${secret}": permission denied`,
    );
    const write = asNobody(["demo", "--out", join(locked, "b")]);
    expectOneLine(
      { code: write.status, stdout: write.stdout, stderr: write.stderr },
      `netdoctor: Cannot write the demo bundle to "${join(locked, "b")}": permission denied`,
    );
    expect(readdirSync(locked)).toEqual([]);
    rmSync(shared, { recursive: true, force: true });
  });
});

describe("usage errors", () => {
  test.each([
    [["scan"], "netdoctor: Cannot scan: give dump files or --bundle DIR (one of the two)"],
    [["scan", "--bogus"], "netdoctor: unknown option '--bogus'"],
    [["fix", "duplicates"], "netdoctor: required option '--dump <file>' not specified"],
    [
      ["scan", "-o", "xml", "x.txt"],
      'netdoctor: Cannot use output format "xml": expected one of text, json, yaml',
    ],
  ])("%j prints one line and where the flags are explained, not the whole help", async (args, first) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    const command = args[0] === "fix" ? "netdoctor fix duplicates" : "netdoctor scan";
    expect(r.stderr).toBe(`${first}\nsee '${command} --help'\n`);
  });
});
