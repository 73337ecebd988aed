import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";

const CLI = resolve("dist/netdoctor.mjs");
const tmp = mkdtempSync(join(tmpdir(), "nd-scan-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function netdoctor(args: readonly string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    input,
    cwd: resolve("."),
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const demo = ["k3s-server", "k3s-agent1", "k3s-agent2"].map((n) => `demo/sample-dumps/${n}.txt`);

describe("netdoctor scan", () => {
  test("netdoctor scan prints the sample nodes for people and exits 1 for the leaked node", async () => {
    const r = netdoctor(["scan", ...demo]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    await expect(r.stdout).toMatchFileSnapshot("../../../testdata/golden/scan-demo.txt");
  });

  test("netdoctor scan exits 0 and says so for a healthy node", async () => {
    const r = netdoctor(["scan", "server=demo/sample-dumps/k3s-server.txt"]);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith("No problems found.\n")).toBe(true);
    await expect(r.stdout).toMatchFileSnapshot("../../../testdata/golden/scan-healthy.txt");
  });

  test("netdoctor scan -o json follows the contract of issue 2", () => {
    const r = netdoctor(["scan", "-o", "json", ...demo]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.nodes.map((n: { node: string }) => n.node)).toEqual([
      "k3s-server",
      "k3s-agent1",
      "k3s-agent2",
    ]);
    const sick = report.nodes[2];
    expect(sick).toMatchObject({
      node: "k3s-agent2",
      header: { program: "iptables-nft-save", version: "1.8.9", backend: "nf_tables" },
      rules: 2692,
      chains: 115,
      tables: { filter: { rules: 2188, chains: 14 }, nat: { rules: 504, chains: 101 } },
    });
    expect(sick.duplicates.extraRules).toBe(2400);
    expect(sick.duplicates.extraRules).toBe(
      sick.duplicates.groups.reduce((n: number, g: { count: number }) => n + g.count - 1, 0),
    );
    expect(sick.duplicates.groups[0]).toMatchObject({
      table: "filter",
      chain: "KUBE-ROUTER-INPUT",
      rule: expect.stringMatching(/^-A KUBE-ROUTER-INPUT -p tcp -m addrtype --dst-type LOCAL /),
      count: 1201,
      owner: "kube-router",
    });
    expect(sick.duplicates.groups.map((g: { owner: string }) => g.owner)).toEqual([
      "kube-router",
      "flannel",
      "kube-proxy",
      "flannel",
    ]);
    expect(
      report.findings.map((f: { code: string; severity: string; node: string }) => [
        f.code,
        f.severity,
        f.node,
      ]),
    ).toEqual([
      ["rules-duplicated", "error", "k3s-agent2"],
      ["rules-outlier", "error", "k3s-agent2"],
    ]);
    const evidence = report.findings[0].evidence[0];
    expect(evidence).toEqual({
      file: "demo/sample-dumps/k3s-agent2.txt",
      line: 1001,
      text: sick.duplicates.groups[0].rule,
    });
    expect(typeof report.findings[0].message).toBe("string");
  });

  test("netdoctor scan -o yaml carries the same data as -o json", () => {
    const json = JSON.parse(netdoctor(["scan", "-o", "json", ...demo]).stdout);
    const yaml = netdoctor(["scan", "-o", "yaml", ...demo]);
    expect(yaml.code).toBe(1);
    expect(parseYaml(yaml.stdout)).toEqual(json);
  });

  test("netdoctor scan reads NAME=- from stdin and `iptables -S` with --table", () => {
    const r = netdoctor(
      ["scan", "-o", "json", "--table", "nat", "w9=-"],
      "-P PREROUTING ACCEPT\n-N KUBE-SERVICES\n-A PREROUTING -j KUBE-SERVICES\n-A PREROUTING -j KUBE-SERVICES\n",
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.nodes[0]).toMatchObject({
      node: "w9",
      file: "-",
      rules: 2,
      chains: 2,
      duplicates: { extraRules: 1 },
    });
    expect(report.findings[0]).toMatchObject({ code: "rules-duplicated", severity: "warning", node: "w9" });
  });

  test("netdoctor scan keeps hostile comment text as data: raw in JSON, escaped on the terminal", () => {
    const file = write(
      "hostile.txt",
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "evil \u202e txt.exe \x1b[2J" -j ACCEPT\n-A INPUT -m comment --comment "evil \u202e txt.exe \x1b[2J" -j ACCEPT\nCOMMIT\n',
    );
    const text = netdoctor(["scan", file]);
    expect(text.code).toBe(1);
    expect(text.stdout).not.toMatch(/[\u202e\x1b]/);
    expect(text.stdout).toContain('--comment "evil \\u202e txt.exe \\x1b[2J"');
    const json = JSON.parse(netdoctor(["scan", "-o", "json", file]).stdout);
    expect(json.nodes[0].duplicates.groups[0].rule).toContain("\u202e");
  });

  test("netdoctor scan reads hand-made dumps with split chains exactly", () => {
    const file = write(
      "split.txt",
      "*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j DROP\n-A B -j DROP\n-A A -j DROP\nCOMMIT\n",
    );
    const json = JSON.parse(netdoctor(["scan", "-o", "json", file]).stdout);
    expect(json.nodes[0].duplicates.groups).toEqual([
      { table: "filter", chain: "A", rule: "-A A -j DROP", count: 2, owner: "other", lines: [4, 6] },
    ]);
  });

  test("netdoctor scan --bundle names each node after its directory, and a node without a dump is not healthy", () => {
    const bundle = join(tmp, "bundle");
    for (const [node, dump] of [
      ["master1", demo[0]!],
      ["agent9", demo[1]!],
    ] as const) {
      mkdirSync(join(bundle, "nodes", node), { recursive: true });
      writeFileSync(join(bundle, "nodes", node, "iptables-save.txt"), readFileSync(dump));
    }
    const healthy = JSON.parse(netdoctor(["scan", "-o", "json", "--bundle", bundle]).stdout);
    expect(healthy.nodes.map((n: { node: string }) => n.node)).toEqual(["agent9", "master1"]);
    expect(healthy.findings).toEqual([]);
    // The same dumps given as files are named the same way (nodes/NODE/iptables-save.txt is NODE).
    const files = netdoctor([
      "scan",
      "-o",
      "json",
      ...["master1", "agent9"].map((n) => join(bundle, "nodes", n, "iptables-save.txt")),
    ]);
    expect(JSON.parse(files.stdout).nodes.map((n: { node: string }) => n.node)).toEqual([
      "master1",
      "agent9",
    ]);
    mkdirSync(join(bundle, "nodes", "broken"));
    writeFileSync(
      join(bundle, "nodes", "broken", "iptables-save.err"),
      "iptables-save: Could not fetch rule set generation id: Invalid argument\n",
    );
    const partial = netdoctor(["scan", "--bundle", bundle]);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain(
      'ERROR iptables-unreadable: Cannot judge node "broken": iptables-save failed on the node: iptables-save: Could not fetch rule set generation id: Invalid argument',
    );
    const both = netdoctor(["scan", "--bundle", bundle, demo[0]!]);
    expect(both.stderr).toBe(
      "netdoctor: Cannot scan: give dump files or --bundle DIR (one of the two)\nsee 'netdoctor scan --help'\n",
    );
  });

  test("netdoctor scan reads a truncated paste as far as it goes, says so and does not call it healthy", () => {
    const file = write("trunc.txt", "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j ACCEPT\n");
    const r = netdoctor(["scan", "-o", "json", file]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.nodes[0].rules).toBe(1);
    expect(report.nodes[0].warnings).toEqual([
      {
        line: 3,
        text: "-A PREROUTING -j ACCEPT",
        reason:
          'The dump ends inside table "nat" (opened at line 1) without COMMIT (truncated): the counts cover lines 1-3 only',
        kind: "truncated",
      },
    ]);
    expect(report.findings.map((f: { code: string; severity: string }) => [f.code, f.severity])).toEqual([
      ["bundle-invalid", "warning"],
    ]);
  });

  test("netdoctor scan reads CRLF dumps with a warning", () => {
    const file = write(
      "crlf.txt",
      "*nat\r\n:PREROUTING ACCEPT [0:0]\r\n-A PREROUTING -j ACCEPT\r\nCOMMIT\r\n",
    );
    const r = netdoctor(["scan", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "line 1: The dump has CRLF (Windows) line endings; they were read as LF: *nat",
    );
  });

  const BAD: [string, () => string[], string][] = [
    [
      "nft list ruleset output",
      () => ["scan", write("nft.txt", "table ip nat {\n\tchain KUBE-SERVICES {\n\t}\n}\n")],
      "netdoctor: Cannot parse dump at line 1: this is nftables output (`nft list ruleset` or an `nft -f` script), not iptables-save output: run `iptables-save` (or `iptables-nft-save`) on the node instead\n",
    ],
    [
      "an empty file",
      () => ["scan", write("empty.txt", "")],
      "netdoctor: Cannot parse dump: the input is empty (no tables); iptables-save prints nothing when it fails, check its stderr\n",
    ],
    [
      "a missing file",
      () => ["scan", join(tmp, "nope.txt")],
      `netdoctor: Cannot read dump "${join(tmp, "nope.txt")}": no such file or directory\n`,
    ],
    [
      "an unknown output format",
      () => ["scan", "-o", "xml", demo[0]!],
      "netdoctor: Cannot use output format \"xml\": expected one of text, json, yaml\nsee 'netdoctor scan --help'\n",
    ],
    [
      "an unknown table",
      () => ["scan", "--table", "nta", demo[0]!],
      "netdoctor: Cannot use table \"nta\": expected raw, mangle, nat, filter or security\nsee 'netdoctor scan --help'\n",
    ],
    [
      "two dumps with one name",
      () => ["scan", demo[0]!, `k3s-server=${demo[1]}`],
      "netdoctor: Cannot scan two dumps named \"k3s-server\": name them NAME=FILE\nsee 'netdoctor scan --help'\n",
    ],
  ];

  test.each(BAD)("netdoctor scan exits 2 with one line for %s", (_, args, message) => {
    const r = netdoctor(args());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(message);
  });

  test("netdoctor scan --help shows examples and exit codes", () => {
    const r = netdoctor(["scan", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("netdoctor scan master1=m1.txt agent1=a1.txt -o json");
    expect(r.stdout).toContain("Exit codes: 0 healthy, 1 problems found, 2 usage or input error");
  });
});
