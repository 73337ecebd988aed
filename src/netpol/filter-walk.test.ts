import { describe, expect, it } from "vitest";
import { parseIpv4 } from "../net/ipv4.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { applyMark, walkFilter } from "./filter-walk.ts";

const pkt = {
  src: parseIpv4("10.42.0.5")!,
  dst: parseIpv4("10.42.1.7")!,
  proto: "tcp",
  sport: -1,
  dport: 80,
};
const ctx = { sets: undefined, localIps: [parseIpv4("192.168.1.10")!], bridged: false };
const dump = (rules: string, policy = "ACCEPT") =>
  parseDump(
    `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n${rules}COMMIT\n`,
  );

describe("walkFilter()", () => {
  it("returns from a goto'd chain to the chain that jumped to its caller (iptables(8) -g)", () => {
    const rs = dump("-A FORWARD -j A\n-A FORWARD -j DROP\n-A A -g B\n-A A -j ACCEPT\n-A B -j RETURN\n");
    const w = walkFilter(rs, "FORWARD", pkt, ctx);
    // B returns past A (goto), back into FORWARD, whose next rule drops.
    expect(w.verdict).toBe("drop");
    expect(w.steps.map((s) => s.action)).toEqual(["jump A", "goto B", "RETURN", "DROP"]);
  });

  it("applies the built-in chain's policy after a RETURN or the end of the chain", () => {
    expect(walkFilter(dump("-A FORWARD -j RETURN\n", "DROP"), "FORWARD", pkt, ctx).verdict).toBe("drop");
    expect(walkFilter(dump("", "DROP"), "FORWARD", pkt, ctx).reason).toBe("FORWARD policy DROP");
  });

  it("keeps marks across chains and tests them, as kube-router's mark dance needs", () => {
    const rs = dump(
      "-A FORWARD -j A\n-A FORWARD -m mark --mark 0x20000/0x20000 -j ACCEPT\n-A FORWARD -j REJECT\n" +
        "-A A -j MARK --set-xmark 0x10000/0x10000\n-A A -m mark ! --mark 0x10000/0x10000 -j REJECT\n-A A -j MARK --set-xmark 0x0/0x10000\n-A A -j MARK --set-xmark 0x20000/0x20000\n",
    );
    const w = walkFilter(rs, "FORWARD", pkt, ctx);
    expect([w.verdict, w.mark.toString(16)]).toEqual(["accept", "20000"]);
  });

  it("stops as undecided at a match it does not simulate, naming the line", () => {
    const w = walkFilter(dump("-A FORWARD -m string --string foo --algo bm -j DROP\n"), "FORWARD", pkt, ctx);
    expect(w.verdict).toBe("undecided");
    expect(w.reason).toMatch(/^line \d+: option --string of -m string is not simulated$/);
  });

  it("evaluates addrtype LOCAL against the node's addresses and REJECT's errno option", () => {
    const rs = dump(
      "-A FORWARD -m addrtype --src-type LOCAL -j ACCEPT\n-A FORWARD -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset\n",
    );
    expect(walkFilter(rs, "FORWARD", pkt, ctx)).toMatchObject({ verdict: "reject", rejectWith: "tcp-reset" });
    expect(walkFilter(rs, "FORWARD", { ...pkt, src: parseIpv4("192.168.1.10")! }, ctx).verdict).toBe(
      "accept",
    );
  });
});

describe("applyMark()", () => {
  it("computes --set-xmark, --set-mark and the and/or/xor forms as the MARK target does", () => {
    const o = (name: string, v: string) => [{ name, negated: false, values: [v] }];
    expect(applyMark(0x30000, o("--set-xmark", "0x0/0x10000"))).toBe(0x20000);
    expect(applyMark(0x1, o("--set-mark", "0x20000/0x20000"))).toBe(0x20001);
    expect(applyMark(0x4001, o("--or-mark", "0x4000"))).toBe(0x4001);
    expect(applyMark(0x4001, o("--xor-mark", "0x4000"))).toBe(0x1);
    expect(applyMark(0x4001, o("--and-mark", "0x4000"))).toBe(0x4000);
  });
});
