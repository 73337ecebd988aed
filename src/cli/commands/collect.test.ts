import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FakeKubeApi } from "../../testing/fake-kube-api.ts";

const root = process.cwd();
const work = mkdtempSync(join(tmpdir(), "nd-collect-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let servers: FakeKubeApi[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** The built CLI when it is newer than the collect sources, else the sources through tsx. */
function cliArgs(): string[] {
  const dist = resolve(root, "dist/netdoctor.mjs");
  const sources = [
    ...readdirSync(resolve(root, "src/collect"))
      .filter((f) => !f.endsWith(".test.ts"))
      .map((f) => resolve(root, "src/collect", f)),
    ...["commands/collect.ts", "live-collect.ts", "run-action.ts", "main.ts"].map((f) =>
      resolve(root, "src/cli", f),
    ),
  ];
  const fresh = existsSync(dist) && sources.every((s) => statSync(s).mtimeMs <= statSync(dist).mtimeMs);
  return fresh ? [dist] : ["--import", "tsx", resolve(root, "src/cli/main.ts")];
}

function run(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d));
  child.stderr?.on("data", (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on("close", (code) => res({ code, stdout, stderr })),
  );
  return { child, done };
}

async function fake(
  options: ConstructorParameters<typeof FakeKubeApi>[0],
): Promise<{ api: FakeKubeApi; kubeconfig: string }> {
  const api = new FakeKubeApi(options);
  servers.push(api);
  await api.start();
  return { api, kubeconfig: api.writeKubeconfig(mkdtempSync(join(work, "kc-"))) };
}

describe("netdoctor collect (CLI)", { timeout: 600_000 }, () => {
  it("Ctrl-C in the middle of a run deletes every collector pod it created and exits 130", async () => {
    const nodes = Array.from({ length: 40 }, (_, i) => ({ name: `w${i}` }));
    const { api, kubeconfig } = await fake({ nodes, pendingMs: 500, runningMs: 500 });
    const out = join(work, "interrupted");
    const { child, done } = run(["collect", "--out", out, "--kubeconfig", kubeconfig, "--concurrency", "8"]);
    // A fixed point, not a time: the run has created 8 pods (the describe's limit guards a hang).
    while (api.created.length < 8) await new Promise((r) => setTimeout(r, 25));
    expect(api.created.length).toBeGreaterThanOrEqual(8);
    expect(api.livePods().length).toBeGreaterThan(0); // pods really were running when interrupted
    child.kill("SIGINT");
    const result = await done;
    expect(result.stderr).toContain("interrupted; deleting collector pods");
    expect(result.code).toBe(130);
    expect(api.livePods()).toEqual([]);
    expect(new Set(api.deleted)).toEqual(new Set(api.created));
    expect(api.created.length).toBeLessThan(40); // it stopped starting nodes
    expect(result.stdout).toMatch(/^Interrupted: collected \d+ of 40 nodes .* and wrote nothing to /);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes(".partial-"))).toEqual([]);
  });

  it("reports failed nodes, exits 1 and prints a JSON summary with -o json", async () => {
    const { api, kubeconfig } = await fake({
      nodes: [{ name: "m1" }, { name: "a1" }, { name: "a2" }],
      behavior: (node) => (node === "a1" ? "iptables-fails" : node === "a2" ? "reject-psa" : "ok"),
    });
    const out = join(work, "partial");
    const result = await run(["collect", "--out", out, "--kubeconfig", kubeconfig, "-o", "json"]).done;
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout);
    expect(summary.nodes.map((n: { node: string; status: string }) => `${n.node}:${n.status}`)).toEqual([
      "a1:command-failed",
      "a2:failed",
      "m1:ok",
    ]);
    expect(summary.nodes[1].error).toContain("pod-security.kubernetes.io/enforce=privileged");
    expect(api.livePods()).toEqual([]);
    expect(result.stderr).toBe(""); // not a TTY: no progress bar
  });

  it("--cleanup deletes leftover collector pods and says which", async () => {
    const { api, kubeconfig } = await fake({ nodes: [{ name: "w1" }], pendingMs: 60_000 });
    // A run killed hard (SIGKILL) leaves its pods behind; --cleanup finds them by label.
    const { child } = run(["collect", "--out", join(work, "killed"), "--kubeconfig", kubeconfig]);
    while (api.created.length < 1) await new Promise((r) => setTimeout(r, 25));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    expect(api.livePods()).toHaveLength(1);
    const result = await run(["collect", "--cleanup", "--kubeconfig", kubeconfig]).done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Deleted 1 collector pod(s) in namespace "kube-system"\n  ${api.created[0]}\n`,
    );
    expect(api.livePods()).toEqual([]);
  });

  it("diagnose --live collects into a kept 0700 temp bundle, then diagnoses it", async () => {
    const { api, kubeconfig } = await fake({
      nodes: [{ name: "m1" }, { name: "a1" }, { name: "a2" }],
      behavior: (node) => (node === "a1" ? "iptables-fails" : "ok"),
    });
    const result = await run([
      "diagnose",
      "--live",
      "--kubeconfig",
      kubeconfig,
      "--concurrency",
      "2",
      "-o",
      "json",
    ]).done;
    expect(result.code).toBe(1);
    const m = /collected 2 of 3 nodes into (\S+) \(kept for the evidence\); 1 with problems/.exec(
      result.stderr,
    );
    expect(m, result.stderr).not.toBeNull();
    const bundle = m![1]!;
    expect(statSync(resolve(bundle, "..")).mode & 0o777).toBe(0o700);
    expect(readdirSync(resolve(bundle, "nodes")).sort()).toEqual(["a1", "a2", "m1"]);
    const diagnosis = JSON.parse(result.stdout);
    expect(diagnosis.ok).toBe(false);
    const unreadable = diagnosis.findings.filter((f: { code: string }) => f.code === "iptables-unreadable");
    expect(unreadable.map((f: { node: string }) => f.node)).toEqual(["a1"]);
    expect(api.livePods()).toEqual([]);
    rmSync(resolve(bundle, ".."), { recursive: true, force: true });

    const both = await run(["diagnose", "--live", "--demo"]).done;
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      "netdoctor: Cannot diagnose: give only one of --bundle DIR, --demo or --live\nsee 'netdoctor diagnose --help'\n",
    );
  });

  it("exits 2 with one clear line for bad flags", async () => {
    const both = await run(["collect", "--out", join(work, "x"), "--nodes", "a", "--selector", "b=c"]).done;
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      "netdoctor: Cannot use --nodes and --selector together: pick one\nsee 'netdoctor collect --help'\n",
    );
    const ssh = await run(["collect", "--out", join(work, "y"), "--via", "ssh"]).done;
    expect(ssh.stderr).toBe(
      "netdoctor: Cannot use --via ssh without --inventory FILE\nsee 'netdoctor collect --help'\n",
    );
    const missing = await run(["collect", "--out", join(work, "z"), "--kubeconfig", join(work, "nope.yaml")])
      .done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^netdoctor: Cannot load kubeconfig ".*nope\.yaml": /);
  });
});
