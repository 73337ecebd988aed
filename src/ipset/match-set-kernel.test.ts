/**
 * matchSet() against the kernel: each case loads sets with the real `ipset restore` and one rule
 * `-m set --match-set TEST FLAGS -j ACCEPT` (everything else REJECTed) into a throw-away node
 * namespace, makes a real connection, and requires the kernel's outcome, matchSet's answer (on the
 * sets as `ipset save` prints them back) and the hand-written expectation to be the same.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIpv4 } from "../net/ipv4.ts";
import { skipBecause } from "../testing/capabilities.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import { ipsetNetnsUnavailable } from "../testing/netpol-ipset-netns.ts";
import { matchSet } from "./match-set.ts";
import { parseIpsetSave } from "./parse-ipset-save.ts";

const skip = skipBecause(ipsetNetnsUnavailable(), "matchSet kernel cases");

const P1 = "198.18.1.2";
const P2 = "198.18.1.3";
const S1 = "198.18.2.1";

interface Case {
  readonly name: string;
  readonly sets: readonly string[];
  readonly flags: string;
  readonly from: "p1" | "p2";
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  /** Written by hand from ipset(8): does the packet match? */
  readonly expected: boolean;
}

const CASES: readonly Case[] = [
  {
    name: "hash:ip src member",
    sets: ["create T hash:ip", `add T ${P1}`],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:ip src non-member",
    sets: ["create T hash:ip", `add T ${P1}`],
    flags: "src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "hash:ip dst member",
    sets: ["create T hash:ip", `add T ${S1}`],
    flags: "dst",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:ip timeout 0 member",
    sets: ["create T hash:ip timeout 0", `add T ${P1} timeout 0`],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:net nomatch more specific excludes",
    sets: ["create T hash:net", "add T 198.18.1.0/24", `add T ${P2}/32 nomatch`],
    flags: "src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "hash:net nomatch leaves the rest",
    sets: ["create T hash:net", "add T 198.18.1.0/24", `add T ${P2}/32 nomatch`],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:net plain more specific than nomatch",
    sets: ["create T hash:net", "add T 198.18.0.0/16 nomatch", `add T ${P1}/32`],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:net under a nomatch net",
    sets: ["create T hash:net", "add T 198.18.0.0/16 nomatch", `add T ${P1}/32`],
    flags: "src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "hash:ip,port tcp port",
    sets: ["create T hash:ip,port", `add T ${S1},tcp:80`],
    flags: "dst,dst",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:ip,port other port",
    sets: ["create T hash:ip,port", `add T ${S1},tcp:80`],
    flags: "dst,dst",
    from: "p1",
    protocol: "tcp",
    port: 81,
    expected: false,
  },
  {
    name: "hash:ip,port protocol differs",
    sets: ["create T hash:ip,port", `add T ${S1},tcp:53`],
    flags: "dst,dst",
    from: "p1",
    protocol: "udp",
    port: 53,
    expected: false,
  },
  {
    name: "hash:ip,port udp",
    sets: ["create T hash:ip,port", `add T ${S1},udp:53`],
    flags: "dst,dst",
    from: "p1",
    protocol: "udp",
    port: 53,
    expected: true,
  },
  {
    name: "hash:ip,port with one flag",
    sets: ["create T hash:ip,port", `add T ${S1},tcp:80`],
    flags: "dst",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "hash:ip,port src ip dst port",
    sets: ["create T hash:ip,port", `add T ${P1},tcp:80`],
    flags: "src,dst",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:net,port nomatch",
    sets: ["create T hash:net,port", "add T 198.18.2.0/24,tcp:80", "add T 198.18.2.0/25,tcp:80 nomatch"],
    flags: "dst,dst",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "hash:net,port nomatch other port",
    sets: ["create T hash:net,port", "add T 198.18.2.0/24,tcp:81", "add T 198.18.2.0/25,tcp:80 nomatch"],
    flags: "dst,dst",
    from: "p1",
    protocol: "tcp",
    port: 81,
    expected: true,
  },
  {
    name: "hash:ip,port,ip",
    sets: ["create T hash:ip,port,ip", `add T ${S1},tcp:80,${P1}`],
    flags: "dst,dst,src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:ip,port,ip other source",
    sets: ["create T hash:ip,port,ip", `add T ${S1},tcp:80,${P1}`],
    flags: "dst,dst,src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "hash:ip,port,net nomatch",
    sets: [
      "create T hash:ip,port,net",
      `add T ${S1},tcp:80,198.18.1.0/24`,
      `add T ${S1},tcp:80,${P2}/32 nomatch`,
    ],
    flags: "dst,dst,src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "hash:ip,port,net member",
    sets: [
      "create T hash:ip,port,net",
      `add T ${S1},tcp:80,198.18.1.0/24`,
      `add T ${S1},tcp:80,${P2}/32 nomatch`,
    ],
    flags: "dst,dst,src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "bitmap:port tcp",
    sets: ["create T bitmap:port range 1-1024", "add T 80"],
    flags: "dst",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "bitmap:port udp",
    sets: ["create T bitmap:port range 1-1024", "add T 53"],
    flags: "dst",
    from: "p1",
    protocol: "udp",
    port: 53,
    expected: true,
  },
  {
    name: "bitmap:port other",
    sets: ["create T bitmap:port range 1-1024", "add T 80"],
    flags: "dst",
    from: "p1",
    protocol: "tcp",
    port: 81,
    expected: false,
  },
  {
    name: "bitmap:ip",
    sets: ["create T bitmap:ip range 198.18.1.0/24", `add T ${P2}`],
    flags: "src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:ip netmask",
    sets: ["create T hash:ip netmask 24", "add T 198.18.1.200"],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:net,iface",
    sets: ["create T hash:net,iface", "add T 198.18.1.0/24,nd-p0"],
    flags: "src,src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "hash:net,iface other iface",
    sets: ["create T hash:net,iface", "add T 198.18.1.0/24,nd-p0"],
    flags: "src,src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "list:set second member",
    sets: [
      "create A hash:ip",
      `add A ${P2}`,
      "create B hash:net",
      "add B 198.18.1.2/31",
      "create T list:set",
      "add T A",
      "add T B",
    ],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "list:set first member",
    sets: [
      "create A hash:ip",
      `add A ${P2}`,
      "create B hash:net",
      "add B 198.18.1.2/31",
      "create T list:set",
      "add T A",
      "add T B",
    ],
    flags: "src",
    from: "p2",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
  {
    name: "list:set no member",
    sets: ["create A hash:ip", `add A ${P2}`, "create T list:set", "add T A"],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: false,
  },
  {
    name: "list:set skips a nomatch",
    sets: [
      "create A hash:net",
      "add A 198.18.1.0/24",
      `add A ${P1} nomatch`,
      "create B hash:ip",
      `add B ${P1}`,
      "create T list:set",
      "add T A",
      "add T B",
    ],
    flags: "src",
    from: "p1",
    protocol: "tcp",
    port: 80,
    expected: true,
  },
];

const IFACE: Readonly<Record<string, string>> = { p1: "nd-p0", p2: "nd-p1" };

function rules(flags: string): string {
  return [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    `-A FORWARD -m set --match-set T ${flags} -j ACCEPT`,
    "-A FORWARD -j REJECT",
    "COMMIT",
    "",
  ].join("\n");
}

describe.skipIf(skip)("matchSet() agrees with the kernel", () => {
  let lab: Lab;
  let checked = 0;
  beforeAll(async () => {
    lab = await createLab({
      area: "ipset",
      pods: [
        { name: "p1", ip: P1 },
        { name: "p2", ip: P2 },
      ],
      servers: [{ name: "s1", ip: S1, tcpPorts: [80, 81], udpPorts: [53] }],
      world: false,
    });
  });
  afterAll(async () => {
    console.log(`matchSet kernel cases: ${checked} of ${CASES.length} checked against the kernel, 0 skipped`);
    await lab?.destroy();
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.expected ? "match" : "no match"}`, async () => {
      await lab.load("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
      await lab.loadIpsets(`${c.sets.join("\n")}\n`);
      await lab.load(rules(c.flags));
      const probe = await lab.probe({
        from: c.from,
        protocol: c.protocol,
        dstIp: S1,
        dstPort: c.port,
        timeoutMs: 2000,
      });
      const kernel = probe.outcome === "answer";
      expect(probe.outcome === "answer" || probe.errno === "ECONNREFUSED", JSON.stringify(probe)).toBe(true);
      const sets = parseIpsetSave(lab.saveIpsets(), { file: "ipset-save.txt" });
      expect(sets.warnings).toEqual([]);
      const packet = {
        src: parseIpv4(c.from === "p1" ? P1 : P2)!,
        dst: parseIpv4(S1)!,
        proto: c.protocol,
        sport: -1,
        dport: c.port,
        inIf: IFACE[c.from],
        outIf: "nd-s0",
      };
      const ours = matchSet(sets, "T", c.flags, packet);
      expect(kernel, "kernel vs hand-written expectation").toBe(c.expected);
      expect(ours.result, ours.reason).toBe(c.expected ? "match" : "no-match");
      checked++;
    });
  }
});
