import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FAILING_IPTABLES_STDERR, FakeKubeApi, smallDump } from "../testing/fake-kube-api.ts";
import { type CannedExec, generateTestKey, SshTestServer } from "../testing/ssh-test-server.ts";
import { collectBundle } from "./collect-bundle.ts";
import { parseInventory } from "./inventory.ts";
import { verifyHostKey } from "./known-hosts.ts";
import { NODE_COMMANDS } from "./node-commands.ts";
import { sshCommandLine } from "./ssh-node-collector.ts";

/** The node commands the canned server below answers; it answers the others as "not installed". */
const ANSWERED = new Set([
  "iptables-save",
  "iptables-version",
  "iptables-legacy-save",
  "nft-ruleset",
  "k3s-version",
  "kube-proxy-metrics",
  "kube-proxy-mode",
  "ipset-save",
  "ipvsadm",
]);
const OTHER_COMMANDS = NODE_COMMANDS.filter((c) => !ANSWERED.has(c.stem)).map((c) =>
  sshCommandLine(c, false),
);

const work = mkdtempSync(join(tmpdir(), "nd-collect-ssh-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const clientKey = generateTestKey();
const keyFile = join(work, "id_ed25519");
writeFileSync(keyFile, clientKey.private, { mode: 0o600 });

/** A node whose sudo knows nft but not k3s, and whose iptables-save may fail. */
function answers(dump: string, failSave = false): (command: string) => CannedExec {
  return (command) => {
    const sudo = command.startsWith("sudo -n ");
    const bare = sudo ? command.slice(8) : command;
    switch (bare.startsWith("sh -c ") && !OTHER_COMMANDS.includes(bare) ? "sh -c" : bare) {
      case "iptables-save":
        return failSave
          ? { stdout: "", stderr: FAILING_IPTABLES_STDERR, exit: 1 }
          : { stdout: dump, exit: 0 };
      case "iptables --version":
        return { stdout: "iptables v1.8.4 (nf_tables)\n", exit: 0 };
      case "iptables-legacy-save":
        return { stdout: "", exit: 0 };
      case "nft -a list ruleset":
        return { stdout: "table ip filter { # handle 1\n}\n", exit: 0 };
      case "nft -j list ruleset":
        return {
          stdout: '{"nftables": [{"table": {"family": "ip", "name": "filter", "handle": 1}}]}\n',
          exit: 0,
        };
      case "sh -c":
        // ipset/ipvsadm run only when their kernel module is loaded: ip_set is, ip_vs is not.
        if (bare.includes("exec ipset save"))
          return {
            stdout: "create KUBE-DST-AAAA hash:ip family inet hashsize 1024 maxelem 65536 timeout 0\n",
            exit: 0,
          };
        if (bare.includes("exec ipvsadm -Sn")) return { stdout: "", exit: 127 };
        // The kube-proxy metrics/mode scripts: this node's kube-proxy does not answer.
        return {
          stdout: "# netdoctor: kube-proxy did not answer on http://127.0.0.1:10249 (curl exit 7)\n",
          exit: 0,
        };
      case "k3s --version":
        return sudo
          ? { stdout: "", stderr: "sudo: k3s: command not found\n", exit: 1 }
          : { stdout: "", stderr: "sh: 1: k3s: not found\n", exit: 127 };
      default:
        // The other node commands (host network evidence, ...) are not installed on this server.
        return OTHER_COMMANDS.includes(bare)
          ? { stdout: "", stderr: `sh: 1: ${bare.split(" ")[0]}: not found\n`, exit: 127 }
          : { stdout: "", stderr: `unexpected command ${command}\n`, exit: 99 };
    }
  };
}

async function sshServer(answer: (command: string) => CannedExec): Promise<SshTestServer> {
  const server = new SshTestServer({ clientPublicKey: clientKey.public, answer });
  await server.start();
  cleanups.push(() => server.close());
  return server;
}

async function kubeconfigFor(nodes: string[]): Promise<{ api: FakeKubeApi; kubeconfig: string }> {
  const api = new FakeKubeApi({ nodes: nodes.map((name) => ({ name })) });
  await api.start();
  cleanups.push(() => api.close());
  return { api, kubeconfig: api.writeKubeconfig(mkdtempSync(join(work, "kc-"))) };
}

let n = 0;
function files(inventory: string, knownHosts: string): { inventory: string; out: string } {
  const dir = mkdtempSync(join(work, `case-${++n}-`));
  writeFileSync(join(dir, "known_hosts"), knownHosts);
  writeFileSync(join(dir, "inventory.yaml"), inventory);
  return { inventory: join(dir, "inventory.yaml"), out: join(dir, "bundle") };
}

describe("collectBundle({via: 'ssh'}) against a real SSH server on loopback", () => {
  it("runs the node commands (with sudo -n when configured), checks known_hosts and writes the bundle", async () => {
    const big = `${smallDump("agent1")}${"# padding line to make the dump large enough to stream in pieces\n".repeat(80_000)}`;
    const server = await sshServer(answers(big));
    const { api, kubeconfig } = await kubeconfigFor(["master1", "agent1"]);
    const { inventory, out } = files(
      [
        "knownHosts: known_hosts",
        `defaults: {host: 127.0.0.1, port: ${server.port}, keyFile: ${keyFile}}`,
        "nodes:",
        "  master1: {user: root}",
        "  agent1: {user: admin, sudo: true}",
        "",
      ].join("\n"),
      server.knownHostsLine(),
    );
    const summary = await collectBundle({
      out,
      via: "ssh",
      inventory,
      kubeconfig,
      concurrency: 2,
      timeoutMs: 20_000,
    });
    expect(summary.nodes.map((r) => [r.node, r.status])).toEqual([
      ["agent1", "ok"],
      ["master1", "ok"],
    ]);
    const shown = (c: string) => c.replace(/ 'u=[\s\S]*$/, " <kube-proxy script>");
    expect(
      server.commands
        .filter((c) => c.startsWith("sudo -n "))
        .map(shown)
        .sort(),
    ).toEqual(NODE_COMMANDS.map((c) => shown(sshCommandLine(c, true))).sort());
    expect(
      server.commands
        .filter((c) => !c.startsWith("sudo"))
        .map(shown)
        .sort(),
    ).toEqual(NODE_COMMANDS.map((c) => shown(sshCommandLine(c, false))).sort());
    expect(server.users.sort()).toEqual(["admin", "root"]);
    expect(readFileSync(join(out, "nodes", "agent1", "iptables-save.txt"), "utf8")).toBe(big);
    // k3s is absent on both (127 from a shell, "command not found" from sudo), as is IPVS: no file, no error.
    expect(readdirSync(join(out, "nodes", "agent1")).sort()).toEqual([
      "ipset-save.txt",
      "iptables-legacy-save.txt",
      "iptables-save.txt",
      "iptables-version.txt",
      "kube-proxy-metrics.txt",
      "kube-proxy-mode.txt",
      "nft-ruleset.json",
      "nft-ruleset.txt",
    ]);
    // The cluster lists still come from the API.
    expect(JSON.parse(readFileSync(join(out, "cluster", "nodes.json"), "utf8")).items).toHaveLength(2);
    expect(api.created).toEqual([]); // no pod on the SSH path
  });

  it("refuses a server whose host key differs from known_hosts, and runs nothing on it", async () => {
    const server = await sshServer(answers(smallDump("w1")));
    const impostor = generateTestKey().public.split(" ").slice(0, 2).join(" ");
    const { kubeconfig } = await kubeconfigFor(["w1"]);
    const { inventory, out } = files(
      `knownHosts: known_hosts\nnodes:\n  w1: {host: 127.0.0.1, port: ${server.port}, keyFile: ${keyFile}}\n`,
      `[127.0.0.1]:${server.port} ${impostor}\n`,
    );
    const summary = await collectBundle({ out, via: "ssh", inventory, kubeconfig, timeoutMs: 20_000 });
    expect(summary.nodes[0]).toMatchObject({ node: "w1", status: "failed" });
    expect(summary.nodes[0]?.error).toMatch(
      /refusing to connect to 127\.0\.0\.1: the host key of \[127\.0\.0\.1\]:\d+ does NOT match known_hosts line 1/,
    );
    expect(server.commands).toEqual([]);
    expect(readFileSync(join(out, "nodes", "w1", "iptables-save.err"), "utf8")).toContain(
      "does NOT match known_hosts",
    );

    // An unknown host is refused too; --insecure-ignore-host-key is the explicit way past it.
    const unknown = files(
      `knownHosts: known_hosts\nnodes:\n  w1: {host: 127.0.0.1, port: ${server.port}, keyFile: ${keyFile}}\n`,
      "",
    );
    const refused = await collectBundle({ ...unknown, via: "ssh", kubeconfig, timeoutMs: 20_000 });
    expect(refused.nodes[0]?.error).toMatch(/is not in known_hosts \(add it after checking its fingerprint/);
    const insecure = await collectBundle({
      ...unknown,
      out: `${unknown.out}-insecure`,
      via: "ssh",
      kubeconfig,
      insecureIgnoreHostKey: true,
      timeoutMs: 20_000,
    });
    expect(insecure.nodes[0]?.status).toBe("ok");
  });

  it("records a failing iptables-save as .err/.exit, and a node that cannot be reached as a failed node", async () => {
    const server = await sshServer(answers("", true));
    const { kubeconfig } = await kubeconfigFor(["bad", "gone"]);
    const { inventory, out } = files(
      [
        "knownHosts: known_hosts",
        "nodes:",
        `  bad: {host: 127.0.0.1, port: ${server.port}, keyFile: ${keyFile}}`,
        `  gone: {host: 127.0.0.1, port: 1, keyFile: ${keyFile}}`,
        "",
      ].join("\n"),
      server.knownHostsLine(),
    );
    const summary = await collectBundle({ out, via: "ssh", inventory, kubeconfig, timeoutMs: 20_000 });
    const [bad, gone] = summary.nodes;
    expect(bad).toMatchObject({ node: "bad", status: "command-failed" });
    expect(readFileSync(join(out, "nodes", "bad", "iptables-save.err"), "utf8")).toBe(
      FAILING_IPTABLES_STDERR,
    );
    expect(readFileSync(join(out, "nodes", "bad", "iptables-save.exit"), "utf8")).toBe("1\n");
    expect(gone).toMatchObject({ node: "gone", status: "failed" });
    expect(gone?.error).toMatch(/cannot connect to root@127\.0\.0\.1:1: connection refused$/);
  });
});

describe("collectBundle({via: 'ssh'}) with a passphrase-protected key", () => {
  it("fails that node with the reason instead of aborting the run", async () => {
    const locked = join(work, "id_locked");
    const { utils } = await import("ssh2");
    // Retry keys ssh2 cannot parse back (mscdex/ssh2#1513, about 1 in 256), so the failure is the passphrase.
    let key = utils.generateKeyPairSync("ed25519", { passphrase: "pw", cipher: "aes256-ctr", rounds: 4 });
    while (utils.parseKey(key.private, "pw") instanceof Error) {
      key = utils.generateKeyPairSync("ed25519", { passphrase: "pw", cipher: "aes256-ctr", rounds: 4 });
    }
    writeFileSync(locked, key.private, { mode: 0o600 });
    const { kubeconfig } = await kubeconfigFor(["w1"]);
    const { inventory, out } = files(
      `knownHosts: known_hosts\nnodes:\n  w1: {host: 127.0.0.1, port: 1, keyFile: ${locked}}\n`,
      "",
    );
    const summary = await collectBundle({ out, via: "ssh", inventory, kubeconfig, timeoutMs: 10_000 });
    expect(summary.nodes[0]?.error).toBe(
      "cannot connect to 127.0.0.1: Cannot parse privateKey: Encrypted private OpenSSH key detected, but no passphrase given",
    );
  });
});

describe("verifyHostKey()", () => {
  const key = Buffer.from(generateTestKey().public.split(" ")[1]!, "base64");
  const line = `ssh-ed25519 ${key.toString("base64")}`;

  it("accepts hashed entries (|1|salt|hash of [host]:port) and plain ones on port 22", () => {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update("[198.18.0.7]:2222").digest("base64");
    expect(verifyHostKey(`|1|${salt.toString("base64")}|${hash} ${line}\n`, "198.18.0.7", 2222, key)).toEqual(
      { ok: true, line: 1 },
    );
    expect(verifyHostKey(`# c\nnode1,198.18.0.8 ${line}\n`, "198.18.0.8", 22, key)).toEqual({
      ok: true,
      line: 2,
    });
    expect(verifyHostKey(`198.18.0.8 ${line}\n`, "198.18.0.8", 2222, key).ok).toBe(false);
  });

  it("refuses revoked keys even when the host is listed", () => {
    const verdict = verifyHostKey(`@revoked * ${line}\n198.18.0.9 ${line}\n`, "198.18.0.9", 22, key);
    expect(verdict).toEqual({ ok: false, reason: "the host key of 198.18.0.9 is revoked" });
  });
});

describe("parseInventory()", () => {
  it("names the file and field of a mistake", () => {
    expect(() => parseInventory("nodes:\n  a: {host: h, port: x, keyFile: k}\n", "inv.yaml")).toThrow(
      'Cannot read inventory "inv.yaml": nodes.a.port: expected a port number',
    );
    expect(() => parseInventory("nodes:\n  a: {host: h}\n", "inv.yaml")).toThrow(
      'Cannot read inventory "inv.yaml": nodes.a: set keyFile or agent: true',
    );
    expect(() => parseInventory("nodes:\n  a: {host: h, agent: true, pasword: x}\n", "inv.yaml")).toThrow(
      "nodes.a.pasword: unknown field",
    );
  });
});
