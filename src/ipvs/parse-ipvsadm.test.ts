import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { keyOf } from "./ipvs-model.ts";
import { parseIpvsadm } from "./parse-ipvsadm.ts";

const REALWORLD = resolve(process.cwd(), "../shared/realworld");

function realworld(name: string): string | undefined {
  const path = resolve(REALWORLD, name);
  if (existsSync(path)) return readFileSync(path, "utf8");
  console.warn(`SKIP ${name}: ${path} is absent`);
  return undefined;
}

const handbook = realworld("kube-proxy-ipvs-handbook.ipvsadm.txt");
const toolbox = realworld("kube-router-ipvs-toolbox.ipvsadm.txt");

describe("parseIpvsadm() on published ipvsadm -Ln output", () => {
  it.runIf(handbook !== undefined)(
    "reads kube-proxy's IPVS table from the kubernetes-handbook listing",
    () => {
      const t = parseIpvsadm(handbook!, { file: "kube-proxy-ipvs-handbook.ipvsadm.txt" });
      expect(t.format).toBe("list");
      expect(t.warnings).toEqual([]);
      expect(t.services.map(keyOf)).toEqual(["tcp 10.0.0.1:443", "tcp 10.0.0.10:53", "udp 10.0.0.10:53"]);
      const api = t.services[0]!;
      expect(api).toMatchObject({ scheduler: "rr", persistent: { timeout: 10800 }, line: 4 });
      expect(api.realServers).toEqual([
        {
          address: "192.168.0.1",
          port: 6443,
          forward: "masq",
          weight: 1,
          activeConn: 1,
          inactConn: 0,
          line: 5,
          text: "  -> 192.168.0.1:6443             Masq    1      1          0",
        },
      ]);
    },
  );

  it.runIf(toolbox !== undefined)("reads kube-router's listing with persistence masks", () => {
    const t = parseIpvsadm(toolbox!);
    expect(t.warnings).toEqual([]);
    expect(t.services).toHaveLength(5);
    expect(t.services[0]).toMatchObject({ persistent: { timeout: 10800, netmask: "0.0.0.0" } });
    expect(t.services.find((s) => keyOf(s) === "tcp 10.3.0.15:2379")?.realServers[0]?.activeConn).toBe(45);
    expect(
      t.services.flatMap((s) => s.realServers).every((r) => r.forward === "masq" && r.weight === 1),
    ).toBe(true);
  });
});

describe("parseIpvsadm() on ipvsadm -Sn", () => {
  // The rule format of ipvsadm.c (print_service_entry with FMT_RULE), as kube-proxy's IPVS proxier
  // programs it: one service per ClusterIP:port, masq real servers of weight 1, persistence for ClientIP
  // affinity, and a weight-0 server left while its connections drain.
  const text = [
    "-A -t 10.43.0.1:443 -s rr",
    "-a -t 10.43.0.1:443 -r 192.168.1.10:6443 -m -w 1",
    "-A -u 10.43.0.10:53 -s rr -p 10800",
    "-a -u 10.43.0.10:53 -r 10.42.0.4:53 -m -w 1",
    "-a -u 10.43.0.10:53 -r 10.42.1.7:53 -m -w 0",
    "-A -t [fd00:10:43::1]:443 -s rr",
    "-A -f 100 -s wrr",
    "-a -f 100 -r 10.42.0.9:0 -g -w 3",
    "-A --sctp-service 10.43.0.20:9999 -s sh -p 300 -M 255.255.255.0",
  ].join("\n");

  it("reads services, persistence, real servers, forwarding methods and weights", () => {
    const t = parseIpvsadm(text, { file: "nodes/n1/ipvsadm.txt" });
    expect(t.format).toBe("save");
    expect(t.warnings).toEqual([]);
    expect(t.services.map(keyOf)).toEqual([
      "tcp 10.43.0.1:443",
      "udp 10.43.0.10:53",
      "tcp [fd00:10:43::1]:443",
      "fwmark 100",
      "sctp 10.43.0.20:9999",
    ]);
    const dns = t.services[1]!;
    expect(dns.persistent).toEqual({ timeout: 10800 });
    expect(dns.realServers.map((r) => [r.address, r.port, r.forward, r.weight, r.line])).toEqual([
      ["10.42.0.4", 53, "masq", 1, 4],
      ["10.42.1.7", 53, "masq", 0, 5],
    ]);
    expect(t.services[3]!.realServers[0]).toMatchObject({ forward: "route", weight: 3 });
    expect(t.services[4]!).toMatchObject({
      scheduler: "sh",
      persistent: { timeout: 300, netmask: "255.255.255.0" },
    });
  });

  it("says to collect with -n when addresses are names", () => {
    const t = parseIpvsadm("-A -t kubernetes.default:https -s rr\n");
    expect(t.services).toEqual([]);
    expect(t.warnings[0]?.reason).toContain("`ipvsadm -Sn`");
  });

  it("rejects text that is not ipvsadm output, naming the command to run", () => {
    expect(() => parseIpvsadm("*nat\n:PREROUTING ACCEPT [0:0]\n", { file: "nodes/n1/ipvsadm.txt" })).toThrow(
      'Cannot parse nodes/n1/ipvsadm.txt at line 1: expected `ipvsadm -Sn` output, got "*nat"',
    );
  });

  it("warns about the statistics listing, which carries no weights", () => {
    const t = parseIpvsadm(
      "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n",
    );
    expect(t.warnings.map((w) => w.line)).toEqual([2]);
  });

  it("reads an empty file as a node without virtual services", () => {
    expect(parseIpvsadm("").services).toEqual([]);
  });
});
