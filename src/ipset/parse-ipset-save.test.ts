import { describe, expect, it } from "vitest";
import { skipBecause } from "../testing/capabilities.ts";
import { ipsetNetnsUnavailable, withIpsetNamespace } from "../testing/netpol-ipset-netns.ts";
import type { IpsetSave } from "./ipset-model.ts";
import { parseIpsetSave, tokenizeIpsetLine } from "./parse-ipset-save.ts";

/**
 * ipset commands for one set of every type this machine's kernel has (it lacks hash:net,port,net,
 * hash:net,net, hash:ip,mark and the mac types: those are read by hand-written lines below); the
 * expectations are written by hand.
 */
const COMMANDS = [
  "create ip hash:ip timeout 0",
  "add ip 198.18.1.2 timeout 0",
  "add ip 198.18.1.3 timeout 0",
  "create net hash:net comment",
  'add net 198.18.0.0/16 comment "pods and more"',
  "add net 198.18.5.0/24 nomatch",
  "create ipport hash:ip,port",
  "add ipport 198.18.1.2,tcp:80",
  "add ipport 198.18.1.3,udp:53",
  "add ipport 198.18.1.4,8080",
  "add ipport 198.18.1.5,icmp:ping",
  "add ipport 198.18.1.6,sctp:9",
  "create netport hash:net,port",
  "add netport 198.18.0.0/24,tcp:443",
  "add netport 198.18.0.0/25,tcp:443 nomatch",
  "create ipportip hash:ip,port,ip",
  "add ipportip 198.18.1.2,tcp:80,198.18.1.2",
  "create ipportnet hash:ip,port,net",
  "add ipportnet 198.18.1.2,tcp:80,10.0.0.0/8",
  "create netiface hash:net,iface",
  "add netiface 198.18.0.0/16,eth0",
  "create ports bitmap:port range 30000-32767",
  "add ports 30080",
  "add ports udp:30081",
  "create bip bitmap:ip range 198.18.0.0/24",
  "add bip 198.18.0.5",
  "create masked hash:ip netmask 24",
  "add masked 198.18.3.77",
  "create v6 hash:net family inet6",
  "add v6 2001:db8::/32",
  "create timed hash:ip timeout 300 counters",
  "add timed 198.18.1.9 timeout 100 packets 5 bytes 300",
  "create list list:set",
  "add list ip",
  "add list net",
];

function realSave(): { save: string; list: string } | undefined {
  if (skipBecause(ipsetNetnsUnavailable(), "ipset parser against the real ipset")) return undefined;
  return withIpsetNamespace((run) => {
    run(["ipset", "restore"], `${COMMANDS.join("\n")}\n`);
    return { save: run(["ipset", "save"]), list: run(["ipset", "list"]) };
  });
}

const real = realSave();

function members(s: IpsetSave, name: string): string[] {
  return (s.sets.get(name)?.members ?? []).map((m) => m.element).sort();
}

describe("parseIpsetSave() against the real ipset", () => {
  it.runIf(real !== undefined)("reads every set type ipset save writes, with no warnings", () => {
    const s = parseIpsetSave(real!.save, { file: "nodes/n1/ipset-save.txt" });
    expect(s.format).toBe("save");
    expect(s.warnings).toEqual([]);
    const types = Object.fromEntries([...s.sets.values()].map((x) => [x.name, x.type]));
    expect(types).toEqual({
      ip: "hash:ip",
      net: "hash:net",
      ipport: "hash:ip,port",
      netport: "hash:net,port",
      ipportip: "hash:ip,port,ip",
      ipportnet: "hash:ip,port,net",
      netiface: "hash:net,iface",
      ports: "bitmap:port",
      bip: "bitmap:ip",
      masked: "hash:ip",
      v6: "hash:net",
      timed: "hash:ip",
      list: "list:set",
    });
    expect(members(s, "ip")).toEqual(["198.18.1.2", "198.18.1.3"]);
    // ipset spells a port without protocol as tcp and names ICMP types.
    expect(members(s, "ipport")).toEqual([
      "198.18.1.2,tcp:80",
      "198.18.1.3,udp:53",
      "198.18.1.4,tcp:8080",
      "198.18.1.5,icmp:echo-request",
      "198.18.1.6,sctp:9",
    ]);
    // bitmap:port keeps bare port numbers; hash:ip with netmask keeps the network.
    expect(members(s, "ports")).toEqual(["30080", "30081"]);
    expect(members(s, "masked")).toEqual(["198.18.3.0"]);
    expect(s.sets.get("masked")?.netmask).toBe(24);
    expect(members(s, "list")).toEqual(["ip", "net"]);
    expect(s.sets.get("v6")?.family).toBe("inet6");
    expect(s.sets.get("ip")?.family).toBe("inet");
    expect(s.sets.get("ports")?.family).toBeUndefined();
  });

  it.runIf(real !== undefined)("keeps nomatch, comments, timeouts and the line of every member", () => {
    const s = parseIpsetSave(real!.save);
    const lines = real!.save.split("\n");
    for (const set of s.sets.values()) {
      expect(lines[set.line - 1]).toBe(set.text);
      expect(set.text.startsWith(`create ${set.name} `)).toBe(true);
      for (const m of set.members) {
        expect(lines[m.line - 1]).toBe(m.text);
        expect(m.text.startsWith(`add ${set.name} ${m.element}`)).toBe(true);
      }
    }
    const net = s.sets.get("net")!;
    expect(net.members.find((m) => m.element === "198.18.5.0/24")?.nomatch).toBe(true);
    expect(net.members.find((m) => m.element === "198.18.0.0/16")).toMatchObject({
      nomatch: false,
      comment: "pods and more",
    });
    expect(s.sets.get("netport")!.members.find((m) => m.element === "198.18.0.0/25,tcp:443")?.nomatch).toBe(
      true,
    );
    expect(s.sets.get("ip")!.members[0]?.timeout).toBe(0);
    const timed = s.sets.get("timed")!;
    expect(timed.timeout).toBe(300);
    // The kernel counts down from 100; ipset prints what is left.
    expect(timed.members[0]!.timeout).toBeGreaterThan(0);
    expect(timed.members[0]!.timeout).toBeLessThanOrEqual(100);
    const ipp = s.sets.get("ipport")!.members.find((m) => m.element === "198.18.1.3,udp:53")!;
    expect(ipp.parts[1]).toMatchObject({ kind: "port", proto: "udp", port: 53 });
  });

  it.runIf(real !== undefined)("reads `ipset list` output to the same sets and members", () => {
    const save = parseIpsetSave(real!.save);
    const list = parseIpsetSave(real!.list);
    expect(list.format).toBe("list");
    expect(list.warnings).toEqual([]);
    expect([...list.sets.keys()].sort()).toEqual([...save.sets.keys()].sort());
    for (const name of save.sets.keys()) {
      expect(members(list, name), name).toEqual(members(save, name));
      expect(list.sets.get(name)?.type, name).toBe(save.sets.get(name)?.type);
    }
    expect(list.sets.get("net")!.members.find((m) => m.element === "198.18.5.0/24")?.nomatch).toBe(true);
  });
});

describe("parseIpsetSave() on bad input", () => {
  it("rejects text that is not ipset output, naming the line and the command to run", () => {
    expect(() =>
      parseIpsetSave("*filter\n:INPUT ACCEPT [0:0]\n", { file: "nodes/n1/ipset-save.txt" }),
    ).toThrow(
      'Cannot parse nodes/n1/ipset-save.txt at line 1: expected "create NAME TYPE ..." (run `ipset save`), got "*filter"',
    );
  });

  it("reads an empty file as a node without sets", () => {
    expect(parseIpsetSave("").sets.size).toBe(0);
  });

  it("keeps going past unreadable lines and says why each was skipped", () => {
    const s = parseIpsetSave(
      [
        "create A hash:ip family inet",
        "add A 10.42.0.5",
        "add A not-an-ip",
        "add B 10.42.0.6",
        "create C hash:fancy family inet",
        "add C whatever",
        "garbage line",
        "add A 10.42.0.7 flavour sweet",
      ].join("\n"),
    );
    expect(s.sets.get("A")?.members.map((m) => m.element)).toEqual(["10.42.0.5", "10.42.0.7"]);
    expect(s.warnings.map((w) => [w.line, w.reason])).toEqual([
      [3, 'member cannot be read: "not-an-ip" is not an IPv4 address or CIDR'],
      [4, 'set "B" has no create line before this member'],
      [5, 'set type "hash:fancy" is not known: its members cannot be matched'],
      [7, 'expected "create NAME TYPE ..." or "add NAME ELEMENT ..."'],
      [8, 'member option "flavour" is not known'],
      [8, 'member option "sweet" is not known'],
    ]);
  });

  it("reads the set types this kernel lacks from lines in ipset save's format", () => {
    const s = parseIpsetSave(
      [
        "create npn hash:net,port,net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1",
        "add npn 10.0.0.0/8,udp:53,192.168.0.0/16",
        "create nn hash:net,net family inet hashsize 1024 maxelem 65536",
        "add nn 10.0.0.0/8,192.168.0.0/16 nomatch",
        "create im hash:ip,mark family inet markmask 0xffffffff hashsize 1024 maxelem 65536",
        "add im 10.0.0.1,0x10",
        "create m hash:mac hashsize 1024 maxelem 65536",
        "add m 00:11:22:33:44:55",
      ].join("\n"),
    );
    expect(s.warnings).toEqual([]);
    expect(s.sets.get("npn")?.members[0]?.parts.map((p) => p.kind)).toEqual(["net", "port", "net"]);
    expect(s.sets.get("nn")?.members[0]?.nomatch).toBe(true);
    expect(s.sets.get("im")?.members[0]?.parts[1]).toEqual({ kind: "mark", text: "0x10" });
    expect(s.sets.get("m")?.family).toBeUndefined();
  });

  it("tokenizes quoted comments as one word", () => {
    expect(tokenizeIpsetLine('add S 10.0.0.1 comment "a b c" timeout 0')).toEqual([
      "add",
      "S",
      "10.0.0.1",
      "comment",
      "a b c",
      "timeout",
      "0",
    ]);
  });
});
