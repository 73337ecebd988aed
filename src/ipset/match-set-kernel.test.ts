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
import { SET_CASES as CASES, P1, P2, S1 } from "../testing/netpol-ipset-cases.ts";
import { ipsetNetnsUnavailable } from "../testing/netpol-ipset-netns.ts";
import { matchSet } from "./match-set.ts";
import { parseIpsetSave } from "./parse-ipset-save.ts";

const skip = skipBecause(ipsetNetnsUnavailable(), "matchSet kernel cases");

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
