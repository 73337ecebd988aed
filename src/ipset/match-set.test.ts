import { describe, expect, it } from "vitest";
import { parseIpv4 } from "../net/ipv4.ts";
import { parseRule } from "../parse/parse-rule.ts";
import { evaluateSetMatch } from "./evaluate-set-match.ts";
import { matchSet } from "./match-set.ts";
import { parseIpsetSave } from "./parse-ipset-save.ts";

const FILE = "nodes/n1/ipset-save.txt";
const sets = parseIpsetSave(
  [
    "create KUBE-DST-A hash:ip family inet hashsize 1024 maxelem 65536 timeout 0",
    "add KUBE-DST-A 10.42.0.5 timeout 0",
    "create BLOCK hash:net family inet hashsize 1024 maxelem 65536 timeout 0",
    "add BLOCK 10.0.0.0/8 timeout 0",
    "add BLOCK 10.42.0.0/16 timeout 0 nomatch",
    "create V6 hash:net family inet6",
    "add V6 ::/1",
    "create TIMED hash:ip family inet timeout 300",
    "add TIMED 10.42.0.7 timeout 120",
    "create LIST list:set size 8",
    "add LIST GONE",
    "add LIST KUBE-DST-A",
  ].join("\n"),
  { file: FILE },
);

const pkt = (src: string, dst: string, dport = 80) => ({
  src: parseIpv4(src)!,
  dst: parseIpv4(dst)!,
  proto: "tcp",
  sport: -1,
  dport,
});

describe("matchSet()", () => {
  it("points at the create line and the member that decided", () => {
    const r = matchSet(sets, "KUBE-DST-A", "dst", pkt("10.42.1.9", "10.42.0.5"));
    expect(r).toMatchObject({ result: "match", reason: '10.42.0.5 is in KUBE-DST-A ("10.42.0.5")' });
    expect(r.evidence).toEqual([
      {
        file: FILE,
        line: 1,
        text: "create KUBE-DST-A hash:ip family inet hashsize 1024 maxelem 65536 timeout 0",
      },
      { file: FILE, line: 2, text: "add KUBE-DST-A 10.42.0.5 timeout 0" },
    ]);
  });

  it("is undecided, naming the set and the missing file, when ipset save was not collected", () => {
    const r = matchSet(undefined, "KUBE-SRC-X", "src", pkt("10.42.0.5", "10.42.0.6"));
    expect(r).toMatchObject({ result: "undecided", missingSet: "KUBE-SRC-X" });
    expect(r.reason).toContain("`ipset save`");
  });

  it("is undecided when the set is absent from the save", () => {
    expect(matchSet(sets, "KUBE-SRC-X", "src", pkt("10.42.0.5", "10.42.0.6"))).toMatchObject({
      result: "undecided",
      missingSet: "KUBE-SRC-X",
      reason: `ipset KUBE-SRC-X is not in ${FILE}`,
    });
  });

  it("lets the most specific nomatch member exclude, and --return-nomatch invert that", () => {
    const p = pkt("10.42.3.3", "1.1.1.1");
    expect(matchSet(sets, "BLOCK", "src", p).result).toBe("no-match");
    expect(matchSet(sets, "BLOCK", "src", p, { returnNomatch: true }).result).toBe("match");
    expect(matchSet(sets, "BLOCK", "src", pkt("10.1.1.1", "1.1.1.1")).result).toBe("match");
    expect(matchSet(sets, "BLOCK", "src", pkt("10.1.1.1", "1.1.1.1"), { returnNomatch: true }).result).toBe(
      "no-match",
    );
  });

  it("never matches an IPv4 packet against an inet6 set", () => {
    expect(matchSet(sets, "V6", "src", pkt("10.1.1.1", "1.1.1.1")).result).toBe("no-match");
  });

  it("notes a member's remaining timeout without applying it", () => {
    const r = matchSet(sets, "TIMED", "src", pkt("10.42.0.7", "1.1.1.1"));
    expect(r.result).toBe("match");
    expect(r.notes).toEqual([
      'TIMED member "10.42.0.7" had 120 s left when the set was saved (timeouts are not applied)',
    ]);
  });

  it("matches a list:set through a later member even when an earlier member set is missing", () => {
    expect(matchSet(sets, "LIST", "dst", pkt("1.1.1.1", "10.42.0.5")).result).toBe("match");
    expect(matchSet(sets, "LIST", "dst", pkt("1.1.1.1", "10.42.0.6"))).toMatchObject({
      result: "undecided",
      missingSet: "GONE",
    });
  });

  it("rejects flags other than src and dst", () => {
    expect(matchSet(sets, "KUBE-DST-A", "up,down", pkt("1.1.1.1", "10.42.0.5")).result).toBe("undecided");
  });
});

describe("evaluateSetMatch()", () => {
  const match = (text: string) => parseRule(text, 1).spec.matches.find((m) => m.module === "set")!;

  it("applies ! --match-set", () => {
    const m = match("-A X -m set ! --match-set KUBE-DST-A dst -j DROP");
    expect(evaluateSetMatch(sets, m, pkt("1.1.1.1", "10.42.0.5")).value).toBe(false);
    expect(evaluateSetMatch(sets, m, pkt("1.1.1.1", "10.42.0.6")).value).toBe(true);
  });

  it("honours --return-nomatch and is undecided on counter conditions", () => {
    const rn = match("-A X -m set --match-set BLOCK src --return-nomatch -j DROP");
    expect(evaluateSetMatch(sets, rn, pkt("10.42.3.3", "1.1.1.1")).value).toBe(true);
    const counters = match("-A X -m set --match-set BLOCK src --packets-gt 5 -j DROP");
    expect(typeof evaluateSetMatch(sets, counters, pkt("10.42.3.3", "1.1.1.1")).value).toBe("string");
  });

  it("reports the missing set as the reason it cannot decide", () => {
    const m = match("-A X -m set --match-set KUBE-SRC-NOPE src -j ACCEPT");
    expect(evaluateSetMatch(sets, m, pkt("10.42.0.5", "1.1.1.1"))).toMatchObject({
      value: `ipset KUBE-SRC-NOPE is not in ${FILE}`,
      missingSet: "KUBE-SRC-NOPE",
    });
  });
});
