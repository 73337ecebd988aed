import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCliSource } from "../../testing/run-cli-source.ts";
import { UsageError } from "../exit-codes.ts";
import { traceRequestFromOptions } from "./trace.ts";

// Runs the command from source (tsx), so the test does not depend on a fresh bundle.
const DUMP = "testdata/trace/k3s-node.txt";
const tmp = mkdtempSync(join(tmpdir(), "nd-trace-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const netdoctor = (args: readonly string[]) => runCliSource("trace", args);

describe("netdoctor trace", () => {
  it("prints every path of a ClusterIP with two endpoints, hop by hop (golden)", async () => {
    const r = netdoctor([
      "--dump",
      DUMP,
      "--src",
      "10.42.0.15",
      "--dst",
      "10.43.118.20:8848",
      "--local-ip",
      "192.168.1.10",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await expect(r.stdout).toMatchFileSnapshot("../../../testdata/golden/trace-clusterip.txt");
  });

  it("says who rejects and what the client sees, exit 1 (golden)", async () => {
    const r = netdoctor([
      "--dump",
      DUMP,
      "--src",
      "10.42.0.15:40000",
      "--dst",
      "10.43.77.3:8080",
      "--local-ip",
      "192.168.1.10",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "REJECTed by line 31 with icmp-port-unreachable: the client sees Connection refused (ECONNREFUSED)",
    );
    await expect(r.stdout).toMatchFileSnapshot("../../../testdata/golden/trace-reject.txt");
  });
});

describe("netdoctor trace -o json", () => {
  it("writes the JSON contract: flow, traces with disposition, headers and hops of typed steps", () => {
    const r = netdoctor([
      "--dump",
      DUMP,
      "--src",
      "10.42.0.15",
      "--dst",
      "10.43.0.10:53",
      "--proto",
      "udp",
      "--local-ip",
      "192.168.1.10",
      "-o",
      "json",
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.dump).toBe(DUMP);
    expect(out.localIps).toEqual([{ address: "192.168.1.10", source: "--local-ip" }]);
    expect(out.flow).toEqual({
      protocol: "udp",
      srcIp: "10.42.0.15",
      dstIp: "10.43.0.10",
      dstPort: 53,
      ingress: "pod",
    });
    expect(out.traces).toHaveLength(1);
    const t = out.traces[0];
    expect(t.probability).toBe(1);
    expect(t.disposition).toEqual({ kind: "forwarded" });
    expect(t.headers).toEqual({
      protocol: "udp",
      src: { kind: "exact", ip: "10.42.0.15" },
      dst: { kind: "exact", ip: "10.42.0.4", port: 53 },
    });
    expect(t.hops).toHaveLength(1);
    expect(t.hops[0].steps[1]).toEqual({
      kind: "filter",
      backend: "iptables",
      table: "nat",
      chain: "KUBE-SERVICES",
      evidence: { file: DUMP, line: 74 },
      rule: '-A KUBE-SERVICES -d 10.43.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
      action: { kind: "jump", target: "KUBE-SVC-TCOU7JCQXEZGVUNU" },
    });
    const dnat = t.hops[0].steps.find((s: { kind: string }) => s.kind === "transform");
    expect(dnat).toMatchObject({
      action: { kind: "dnat", to: "10.42.0.4:53" },
      before: { dst: { kind: "exact", ip: "10.43.0.10", port: 53 } },
      after: { dst: { kind: "exact", ip: "10.42.0.4", port: 53 } },
    });
    expect(t.hops[0].steps).toContainEqual({
      kind: "routing",
      decision: "forward",
      dst: { kind: "exact", ip: "10.42.0.4", port: 53 },
      basis: "node-addresses",
    });
  });
});

describe("netdoctor trace: formats and bad input", () => {
  it("shows masquerade for traffic from the node itself (yaml)", () => {
    const r = netdoctor([
      "--dump",
      DUMP,
      "--from",
      "host",
      "--src",
      "192.168.1.10",
      "--dst",
      "10.43.118.20:8848",
      "--local-ip",
      "192.168.1.10",
      "-o",
      "yaml",
    ]);
    expect(r.code).toBe(0);
    const out = parse(r.stdout);
    expect(out.traces.map((t: { headers: { src: unknown } }) => t.headers.src)).toEqual([
      { kind: "out-interface" },
      { kind: "out-interface" },
    ]);
  });

  it.each([
    [
      { src: "10.42.0.300", dst: "10.43.0.10:53" },
      /^Cannot use --src "10.42.0.300": "10.42.0.300" is not an IPv4 address$/,
    ],
    [
      { src: "10.42.0.1", dst: "10.43.0.10:70000" },
      /^Cannot use --dst "10.43.0.10:70000": port "70000" is not between 1 and 65535$/,
    ],
    [
      { src: "10.42.0.1:0", dst: "10.43.0.10:53" },
      /^Cannot use --src "10.42.0.1:0": port "0" is not between 1 and 65535$/,
    ],
    [{ src: "10.42.0.1", dst: "10.43.0.10" }, /^Cannot use --dst "10.43.0.10": expected IP:PORT$/],
    [{ src: "10.42.0.1", dst: "svc:53" }, /^Cannot use --dst "svc:53": "svc" is not an IPv4 address$/],
    [
      { src: "10.42.0.1", dst: "10.43.0.10:53", proto: "tcpx" },
      /^Cannot use protocol "tcpx": expected one of tcp, udp, sctp, icmp$/,
    ],
    [
      { src: "10.42.0.1", dst: "10.43.0.10:53", from: "node" },
      /^Cannot use --from "node": expected pod, host or NAMESPACE\/POD$/,
    ],
    [
      { src: "10.42.0.1", dst: "10.43.0.10:53", from: "eopx/gw" },
      /^Cannot use --from "eopx\/gw": a pod needs --bundle DIR$/,
    ],
    [
      { dst: "10.43.0.10:53" },
      /^Cannot trace without a source: give --src IP\[:PORT\] or --from NAMESPACE\/POD$/,
    ],
    [{ src: "10.42.0.1", dst: "[fd00::1]:53" }, /^Cannot use --dst "\[fd00::1\]:53": IPv6 is not traced yet/],
    [{ src: "fd00::5", dst: "10.43.0.10:53" }, /^Cannot use --src "fd00::5": IPv6 is not traced yet/],
    [
      { src: "10.42.0.1", dst: "10.43.0.10:53", localIp: ["node1"] },
      /^Cannot use --local-ip "node1": not an IPv4 address$/,
    ],
  ])("refuses %j with one clear message", (args, message) => {
    const opts = { dump: DUMP, proto: "tcp", from: "pod", localIp: [], output: "text", ...args };
    expect(() => traceRequestFromOptions(opts)).toThrow(UsageError);
    expect(() => traceRequestFromOptions(opts)).toThrow(message);
  });
});

describe("netdoctor trace: errors and hostile text", () => {
  it("exits 2 with one line on a malformed argument", () => {
    const r = netdoctor(["--dump", DUMP, "--src", "10.42.0.300", "--dst", "10.43.0.10:53"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'netdoctor: Cannot use --src "10.42.0.300": "10.42.0.300" is not an IPv4 address\nsee \'netdoctor trace --help\'\n',
    );
  });

  it("rejects a dump that does not parse, and a missing file, with exit 2", () => {
    const bad = join(tmp, "bad.txt");
    writeFileSync(
      bad,
      '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "unclosed -j ACCEPT\nCOMMIT\n',
    );
    const r = netdoctor(["--dump", bad, "--src", "10.0.0.1", "--dst", "10.0.0.2:80"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^netdoctor: .*line 3/);
    const missing = netdoctor(["--dump", join(tmp, "nope.txt"), "--src", "10.0.0.1", "--dst", "10.0.0.2:80"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("parses a dump over 4 MiB only on the packet's path: a malformed rule elsewhere does not stop it, one on the path leaves it undecided", () => {
    // 40,000 rules of about 120 bytes in a chain nothing jumps to: past the size checked whole.
    const filler = Array.from(
      { length: 40_000 },
      (_, i) =>
        `-A FILLER -s 10.99.${i >> 8}.${i & 255}/32 -p tcp -m comment --comment "filler rule ${i} that no packet reaches" -j ACCEPT`,
    );
    const broken = '-m comment --comment "unclosed -j ACCEPT';
    const dump = (chain: string): string => {
      const path = join(tmp, `big-${chain}.txt`);
      const head =
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:FILLER - [0:0]\n";
      writeFileSync(path, `${head}-A ${chain} ${broken}\n${filler.join("\n")}\nCOMMIT\n`);
      return path;
    };
    const trace = (path: string) =>
      netdoctor([
        "--dump",
        path,
        "--src",
        "10.0.0.1",
        "--dst",
        "10.0.0.2:80",
        "--local-ip",
        "192.168.1.10",
        "-o",
        "json",
      ]);
    const elsewhere = trace(dump("INPUT"));
    expect(elsewhere.stderr).toBe("");
    expect(elsewhere.code).toBe(0);
    const onPath = trace(dump("FORWARD"));
    expect(onPath.code).toBe(3);
    const dispositions = (
      JSON.parse(onPath.stdout) as { traces: { disposition: { kind: string } }[] }
    ).traces.map((t) => t.disposition.kind);
    expect(dispositions).toEqual(["undecided"]);
    expect(onPath.stdout).toContain("line 6");
  });

  it("prints hostile dump text terminal-safe", () => {
    const evil = join(tmp, "evil.txt");
    writeFileSync(
      evil,
      `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m comment --comment "\u202egotcha" -j DROP\nCOMMIT\n`,
    );
    const r = netdoctor([
      "--dump",
      evil,
      "--src",
      "10.0.0.1",
      "--dst",
      "10.0.0.2:80",
      "--local-ip",
      "10.0.0.9",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("\u202e");
    expect(r.stdout).toContain("\\u202egotcha");
  });
});
