import { describe, expect, it } from "vitest";
import { parseDump } from "../parse/parse-dump.ts";
import { describeOutcome } from "../report/trace-words.ts";
import { actions, chains, filter, lines, nat, POD, summary, trace } from "../testing/trace-test-helpers.ts";
import { addressText } from "./address-text.ts";
import { ruleStepsOf } from "./rule-steps.ts";
import { type TraceRequest, tracePacket } from "./trace-packet.ts";

describe("tracePacket(): chain semantics", () => {
  it("falls through to the policy and reports the policy line", () => {
    const r = trace(
      filter("-A FORWARD -p udp -j ACCEPT\n", { INPUT: "ACCEPT", FORWARD: "DROP", OUTPUT: "ACCEPT" }),
    );
    expect(summary(r)).toEqual(["dropped 10.43.0.10:80"]);
    const t = r.traces[0]!;
    expect(ruleStepsOf(t).at(-1)).toMatchObject({
      kind: "filter",
      chain: "FORWARD",
      evidence: { line: 3 },
      action: { kind: "policy", policy: "DROP" },
    });
    expect(t.disposition).toMatchObject({ kind: "dropped", by: { action: { kind: "policy" } } });
    expect(describeOutcome(t, r.flow)).toContain("filter FORWARD policy (line 3)");
  });

  it("RETURN in a built-in chain applies the policy", () => {
    const r = trace(
      filter("-A FORWARD -j RETURN\n-A FORWARD -j ACCEPT\n", {
        INPUT: "ACCEPT",
        FORWARD: "DROP",
        OUTPUT: "ACCEPT",
      }),
    );
    expect(summary(r)).toEqual(["dropped 10.43.0.10:80"]);
  });

  it("returns from a jumped chain to the next rule of the caller", () => {
    const r = trace(
      filter(`${chains(["A"])}-A FORWARD -j A\n-A FORWARD -j DROP\n-A A -j RETURN\n-A A -j ACCEPT\n`),
    );
    expect(summary(r)).toEqual(["dropped 10.43.0.10:80"]);
    expect(lines(r.traces[0]!)).toEqual([6, 8, 7]);
  });

  it("RETURN from a goto'd chain returns to the caller of the chain that did the goto", () => {
    const dump = filter(
      `${chains(["A", "B"])}-A FORWARD -j A\n-A FORWARD -j REJECT --reject-with icmp-host-prohibited\n-A A -g B\n-A A -j ACCEPT\n-A B -j RETURN\n`,
    );
    const r = trace(dump);
    // B returns past A (A's ACCEPT is never reached) to FORWARD's second rule.
    expect(summary(r)).toEqual(["rejected 10.43.0.10:80 EHOSTUNREACH"]);
    expect(actions(r.traces[0]!)).toEqual([
      "jump A",
      "goto B",
      "RETURN",
      "REJECT --reject-with icmp-host-prohibited",
    ]);
    expect(ruleStepsOf(r.traces[0]!).map((s) => s.action.kind)).toEqual(["jump", "goto", "return", "reject"]);
  });

  it("a goto from a built-in chain that returns applies the policy", () => {
    const r = trace(
      filter(`${chains(["B"])}-A FORWARD -g B\n-A FORWARD -j ACCEPT\n`, {
        INPUT: "ACCEPT",
        FORWARD: "DROP",
        OUTPUT: "ACCEPT",
      }),
    );
    expect(summary(r)).toEqual(["dropped 10.43.0.10:80"]);
  });

  it("a jump to a missing chain is undecided, naming the line and what would decide it", () => {
    const t = trace(filter("-A FORWARD -j NOPE\n")).traces[0]!;
    expect(t.disposition).toMatchObject({ kind: "undecided", needs: "manual-check" });
    expect(t.disposition.kind === "undecided" && t.disposition.reason).toMatch(
      /^Cannot decide line 5: target "NOPE" is not simulated/,
    );
    expect(ruleStepsOf(t).at(-1)?.action).toMatchObject({ kind: "cannot-decide" });
  });
});

describe("tracePacket(): NAT and marks", () => {
  it("applies DNAT so later rules see the new destination, and records the headers before and after", () => {
    const dump =
      nat(
        "-A PREROUTING -d 10.43.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.42.1.94:8848\n",
      ) + filter("-A FORWARD -m conntrack --ctstate DNAT -d 10.42.1.94/32 -j ACCEPT\n-A FORWARD -j DROP\n");
    const r = trace(dump);
    expect(summary(r)).toEqual(["forwarded 10.42.1.94:8848"]);
    expect(describeOutcome(r.traces[0]!, r.flow)).toBe("DNAT to 10.42.1.94:8848, then forwarded");
    const dnat = ruleStepsOf(r.traces[0]!).find((s) => s.kind === "transform")!;
    expect(dnat).toMatchObject({
      kind: "transform",
      table: "nat",
      chain: "PREROUTING",
      evidence: { file: "dump", line: 6 },
      action: { kind: "dnat", to: "10.42.1.94:8848" },
      before: {
        protocol: "tcp",
        src: { kind: "exact", ip: "10.42.0.5", port: 40000 },
        dst: { kind: "exact", ip: "10.43.0.10", port: 80 },
      },
      after: {
        protocol: "tcp",
        src: { kind: "exact", ip: "10.42.0.5", port: 40000 },
        dst: { kind: "exact", ip: "10.42.1.94", port: 8848 },
      },
    });
    expect(r.traces[0]!.headers).toEqual(dnat.kind === "transform" && dnat.after);
  });

  it("DNAT without a port keeps the port; to a local address means local delivery", () => {
    const r = trace(nat("-A PREROUTING -j DNAT --to-destination 192.168.1.10\n"));
    expect(summary(r)).toEqual(["delivered-locally 192.168.1.10:80"]);
  });

  it("DNAT to a range reports the range instead of guessing", () => {
    const r = trace(nat("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.3:80\n"));
    expect(r.traces[0]!.headers.dst).toEqual({
      kind: "range",
      minIp: "10.0.0.1",
      maxIp: "10.0.0.3",
      minPort: 80,
      maxPort: 80,
    });
    expect(addressText(r.traces[0]!.headers.dst)).toBe("10.0.0.1-10.0.0.3:80");
  });
});

describe("tracePacket(): marks and the node's own packets", () => {
  it("MARK --set-xmark/--or/--and/--xor compute (mark & ~mask) ^ value", () => {
    const mark = (ops: string[]) =>
      trace(
        `*mangle\n:PREROUTING ACCEPT [0:0]\n${ops.map((o) => `-A PREROUTING -j MARK ${o}\n`).join("")}COMMIT\n`,
      ).traces[0]!.hops[0]!.mark;
    expect(mark(["--set-xmark 0x4000/0x4000"])).toBe("0x4000");
    expect(mark(["--set-xmark 0xff/0xffffffff", "--set-xmark 0x1/0xf0"])).toBe("0xe");
    expect(mark(["--or-mark 0x3", "--and-mark 0x2"])).toBe("0x2");
    expect(mark(["--or-mark 0x4000", "--xor-mark 0x4000"])).toBeUndefined();
    expect(mark(["--set-mark 0x5/0x4", "--set-mark 0x10"])).toBe("0x10");
    expect(mark(["--set-xmark 0x4000/0x0", "--set-xmark 0x4000/0x0"])).toBeUndefined();
  });

  it("the OUTPUT hook matches -o against the first route even after a nat OUTPUT DNAT; POSTROUTING sees the new one", () => {
    const dump =
      nat(
        "-A OUTPUT -p tcp -j DNAT --to-destination 10.42.1.9:8080\n-A POSTROUTING -o eth1 -j MASQUERADE\n",
      ) + filter("-A OUTPUT -o eth0 -j REJECT --reject-with icmp-admin-prohibited\n");
    const ruleset = parseDump(dump);
    const request: TraceRequest = {
      packet: { ...POD, srcIp: "192.168.1.10" },
      from: "host",
      localIps: ["192.168.1.10"],
    };
    const routeInterface = (ip: string) => (ip === "10.42.1.9" ? "eth1" : "eth0");
    expect(tracePacket(ruleset, request, { routeInterface }).traces[0]!.disposition).toMatchObject({
      kind: "rejected",
      clientError: "EHOSTUNREACH",
    });
    const noReject = parseDump(
      dump.replace("-A OUTPUT -o eth0 -j REJECT --reject-with icmp-admin-prohibited\n", ""),
    );
    const t = tracePacket(noReject, request, { routeInterface }).traces[0]!;
    expect(t.disposition).toEqual({ kind: "forwarded", outInterface: "eth1" });
    expect(t.headers.src).toEqual({ kind: "out-interface", port: 40000 });
  });

  it("MASQUERADE via the kube-proxy mark", () => {
    const dump = nat(
      `${chains(["KUBE-POSTROUTING", "KUBE-MARK-MASQ"])}-A PREROUTING -j KUBE-MARK-MASQ\n-A POSTROUTING -j KUBE-POSTROUTING\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n-A KUBE-POSTROUTING -j MASQUERADE --random-fully\n`,
    );
    const t = trace(dump).traces[0]!;
    expect(t.disposition.kind).toBe("forwarded");
    expect(t.headers.src.kind).toBe("out-interface");
    expect(t.hops[0]!.mark).toBeUndefined();
    const masq = ruleStepsOf(t).at(-1)!;
    expect(masq).toMatchObject({ kind: "transform", action: { kind: "masquerade" } });
    expect(masq.kind === "transform" && masq.before.src).toEqual({
      kind: "exact",
      ip: "10.42.0.5",
      port: 40000,
    });
  });

  it("NOTRACK in raw makes nat skip the packet and --ctstate UNTRACKED match", () => {
    const dump =
      "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j CT --notrack\nCOMMIT\n" +
      nat("-A PREROUTING -j DNAT --to-destination 10.1.1.1:1\n") +
      filter("-A FORWARD -m conntrack --ctstate UNTRACKED -j REJECT\n");
    expect(summary(trace(dump))).toEqual(["rejected 10.43.0.10:80 ECONNREFUSED"]);
  });
});

describe("tracePacket(): REJECT and the client's errno", () => {
  it.each([
    ["icmp-port-unreachable", "ECONNREFUSED", "ECONNREFUSED"],
    ["icmp-host-unreachable", "EHOSTUNREACH", undefined],
    ["icmp-net-unreachable", "ENETUNREACH", undefined],
    ["icmp-proto-unreachable", "ENOPROTOOPT", "ENOPROTOOPT"],
    ["icmp-net-prohibited", "ENETUNREACH", "ENETUNREACH"],
    ["icmp-host-prohibited", "EHOSTUNREACH", "EHOSTUNREACH"],
    ["icmp-admin-prohibited", "EHOSTUNREACH", "EHOSTUNREACH"],
  ])("%s: tcp %s, udp %s", (type, tcpErr, udpErr) => {
    const dump = filter(`-A FORWARD -j REJECT --reject-with ${type}\n`);
    expect(trace(dump).traces[0]!.disposition).toMatchObject({
      kind: "rejected",
      rejectWith: type,
      clientError: tcpErr,
    });
    const udp = trace(dump, { protocol: "udp" }).traces[0]!.disposition;
    expect(udp.kind === "rejected" ? udp.clientError : "not rejected").toBe(udpErr);
  });

  it("tcp-reset is a refused connection; a bare REJECT is port-unreachable", () => {
    expect(
      trace(filter("-A FORWARD -p tcp -j REJECT --reject-with tcp-reset\n")).traces[0]!.disposition,
    ).toMatchObject({ clientError: "ECONNREFUSED" });
    expect(trace(filter("-A FORWARD -j REJECT\n")).traces[0]!.disposition).toMatchObject({
      rejectWith: "icmp-port-unreachable",
      clientError: "ECONNREFUSED",
    });
  });

  it("a UDP send the node's own OUTPUT drops fails with EPERM", () => {
    const r = trace(
      filter("-A OUTPUT -j DROP\n"),
      { protocol: "udp", srcIp: "192.168.1.10" },
      { from: "host" },
    );
    expect(r.traces[0]!.disposition).toMatchObject({ kind: "dropped", clientError: "EPERM" });
  });
});

describe("tracePacket(): statistic branches", () => {
  const svc = (n: number) => {
    const rules = [];
    for (let i = 0; i < n; i++) {
      const prob = i < n - 1 ? ` -m statistic --mode random --probability ${(1 / (n - i)).toFixed(11)}` : "";
      rules.push(`-A SVC${prob} -j SEP${i}`);
    }
    const seps = Array.from(
      { length: n },
      (_, i) => `-A SEP${i} -p tcp -j DNAT --to-destination 10.42.0.${i + 10}:8080`,
    );
    return nat(
      `${chains(["SVC", ...Array.from({ length: n }, (_, i) => `SEP${i}`)])}-A PREROUTING -j SVC\n${rules.join("\n")}\n${seps.join("\n")}\n`,
    );
  };

  it("splits into one path per endpoint, each 1/n, summing to 1", () => {
    for (const n of [2, 3, 5]) {
      const r = trace(svc(n));
      expect(r.traces).toHaveLength(n);
      expect(r.traces.reduce((a, t) => a + t.probability, 0)).toBeCloseTo(1, 9);
      for (const t of r.traces) expect(t.probability).toBeCloseTo(1 / n, 9);
      expect(new Set(r.traces.map((t) => addressText(t.headers.dst))).size).toBe(n);
    }
  });

  it("records the branch probability on the step the statistic match took", () => {
    const r = trace(svc(2));
    expect(ruleStepsOf(r.traces[0]!)[1]).toMatchObject({
      action: { kind: "jump", target: "SEP0" },
      probability: 0.5,
    });
    expect(actions(r.traces[0]!)[1]).toBe("jump SEP0 (random, p=0.5)");
    expect(ruleStepsOf(r.traces[1]!)[1]!.probability).toBeUndefined();
  });
});
