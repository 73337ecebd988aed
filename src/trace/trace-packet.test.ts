import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Packet, TraceResult } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { buildTraceIndex, type TraceRequest, tracePacket } from "./trace-packet.ts";

const filter = (rules: string, policies = { INPUT: "ACCEPT", FORWARD: "ACCEPT", OUTPUT: "ACCEPT" }) =>
  `*filter\n:INPUT ${policies.INPUT} [0:0]\n:FORWARD ${policies.FORWARD} [0:0]\n:OUTPUT ${policies.OUTPUT} [0:0]\n${rules}COMMIT\n`;
const nat = (rules: string) =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rules}COMMIT\n`;
const chains = (names: string[]) => names.map((n) => `:${n} - [0:0]\n`).join("");

const POD: Packet = { protocol: "tcp", srcIp: "10.42.0.5", srcPort: 40000, dstIp: "10.43.0.10", dstPort: 80 };

type RequestOverrides = { [K in keyof TraceRequest]?: TraceRequest[K] | undefined };

function trace(dump: string, packet: Partial<Packet> = {}, req: RequestOverrides = {}): TraceResult {
  const merged = {
    packet: { ...POD, ...packet },
    from: "pod",
    localIps: ["192.168.1.10"],
    inInterface: "cni0",
    outInterface: "eth0",
    ...req,
  };
  const request = Object.fromEntries(
    Object.entries(merged).filter(([, v]) => v !== undefined),
  ) as unknown as TraceRequest;
  return tracePacket(parseDump(dump), request);
}

/** `disposition destination` of each path, with its probability when not 1. */
function summary(r: TraceResult): string[] {
  return r.paths.map(
    (p) =>
      `${p.probability === 1 ? "" : `${p.probability} `}${p.disposition} ${p.destination}${p.clientError ? ` ${p.clientError}` : ""}`,
  );
}

describe("tracePacket: chain semantics", () => {
  it("falls through to the policy and reports the policy line", () => {
    const r = trace(
      filter("-A FORWARD -p udp -j ACCEPT\n", { INPUT: "ACCEPT", FORWARD: "DROP", OUTPUT: "ACCEPT" }),
    );
    expect(summary(r)).toEqual(["drop 10.43.0.10:80"]);
    expect(r.paths[0]!.steps.at(-1)).toMatchObject({ chain: "FORWARD", line: 3, action: "policy DROP" });
    expect(r.paths[0]!.reason).toContain("filter FORWARD policy (line 3)");
  });

  it("RETURN in a built-in chain applies the policy", () => {
    const r = trace(
      filter("-A FORWARD -j RETURN\n-A FORWARD -j ACCEPT\n", {
        INPUT: "ACCEPT",
        FORWARD: "DROP",
        OUTPUT: "ACCEPT",
      }),
    );
    expect(summary(r)).toEqual(["drop 10.43.0.10:80"]);
  });

  it("returns from a jumped chain to the next rule of the caller", () => {
    const r = trace(
      filter(`${chains(["A"])}-A FORWARD -j A\n-A FORWARD -j DROP\n-A A -j RETURN\n-A A -j ACCEPT\n`),
    );
    expect(summary(r)).toEqual(["drop 10.43.0.10:80"]);
    expect(r.paths[0]!.steps.map((s) => s.line)).toEqual([6, 8, 7]);
  });

  it("RETURN from a goto'd chain returns to the caller of the chain that did the goto", () => {
    const dump = filter(
      `${chains(["A", "B"])}-A FORWARD -j A\n-A FORWARD -j REJECT --reject-with icmp-host-prohibited\n-A A -g B\n-A A -j ACCEPT\n-A B -j RETURN\n`,
    );
    const r = trace(dump);
    // B returns past A (A's ACCEPT is never reached) to FORWARD's second rule.
    expect(summary(r)).toEqual(["reject 10.43.0.10:80 EHOSTUNREACH"]);
    expect(r.paths[0]!.steps.map((s) => s.action)).toEqual([
      "jump A",
      "goto B",
      "RETURN",
      "REJECT --reject-with icmp-host-prohibited",
    ]);
  });

  it("a goto from a built-in chain that returns applies the policy", () => {
    const r = trace(
      filter(`${chains(["B"])}-A FORWARD -g B\n-A FORWARD -j ACCEPT\n`, {
        INPUT: "ACCEPT",
        FORWARD: "DROP",
        OUTPUT: "ACCEPT",
      }),
    );
    expect(summary(r)).toEqual(["drop 10.43.0.10:80"]);
  });

  it("a jump to a missing chain is unknown, naming the line", () => {
    const r = trace(filter("-A FORWARD -j NOPE\n"));
    expect(r.paths[0]).toMatchObject({ disposition: "unknown" });
    expect(r.paths[0]!.reason).toMatch(/^Cannot decide line 5: target "NOPE" is not simulated/);
  });
});

describe("tracePacket: NAT and marks", () => {
  it("applies DNAT so later rules see the new destination, and the DNAT ctstate", () => {
    const dump =
      nat(
        "-A PREROUTING -d 10.43.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.42.1.94:8848\n",
      ) + filter("-A FORWARD -m conntrack --ctstate DNAT -d 10.42.1.94/32 -j ACCEPT\n-A FORWARD -j DROP\n");
    const r = trace(dump);
    expect(summary(r)).toEqual(["forward 10.42.1.94:8848"]);
    expect(r.paths[0]!.reason).toBe("DNAT to 10.42.1.94:8848, then forwarded");
  });

  it("DNAT without a port keeps the port; to a local address means local delivery", () => {
    const r = trace(nat("-A PREROUTING -j DNAT --to-destination 192.168.1.10\n"));
    expect(summary(r)).toEqual(["local 192.168.1.10:80"]);
  });

  it("DNAT to a range reports the range instead of guessing", () => {
    const r = trace(nat("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.3:80\n"));
    expect(r.paths[0]!.destination).toBe("10.0.0.1-10.0.0.3:80");
  });

  it("MARK --set-xmark/--or/--and/--xor compute (mark & ~mask) ^ value", () => {
    const mark = (ops: string[]) =>
      trace(
        `*mangle\n:PREROUTING ACCEPT [0:0]\n${ops.map((o) => `-A PREROUTING -j MARK ${o}\n`).join("")}COMMIT\n`,
      ).paths[0]!.mark;
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
    expect(tracePacket(ruleset, request, { routeInterface }).paths[0]).toMatchObject({
      disposition: "reject",
      clientError: "EHOSTUNREACH",
    });
    const noReject = parseDump(
      dump.replace("-A OUTPUT -o eth0 -j REJECT --reject-with icmp-admin-prohibited\n", ""),
    );
    expect(tracePacket(noReject, request, { routeInterface }).paths[0]).toMatchObject({
      disposition: "forward",
      masquerade: true,
    });
  });

  it("MASQUERADE via the kube-proxy mark", () => {
    const dump = nat(
      `${chains(["KUBE-POSTROUTING", "KUBE-MARK-MASQ"])}-A PREROUTING -j KUBE-MARK-MASQ\n-A POSTROUTING -j KUBE-POSTROUTING\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n-A KUBE-POSTROUTING -j MASQUERADE --random-fully\n`,
    );
    const p = trace(dump).paths[0]!;
    expect(p).toMatchObject({ disposition: "forward", masquerade: true });
    expect(p.mark).toBeUndefined();
  });

  it("NOTRACK in raw makes nat skip the packet and --ctstate UNTRACKED match", () => {
    const dump =
      "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j CT --notrack\nCOMMIT\n" +
      nat("-A PREROUTING -j DNAT --to-destination 10.1.1.1:1\n") +
      filter("-A FORWARD -m conntrack --ctstate UNTRACKED -j REJECT\n");
    expect(summary(trace(dump))).toEqual(["reject 10.43.0.10:80 ECONNREFUSED"]);
  });
});

describe("tracePacket: matches", () => {
  const verdict = (rule: string, packet: Partial<Packet> = {}, req: RequestOverrides = {}) =>
    trace(filter(`${rule} -j DROP\n`), packet, req).paths.map((p) =>
      p.disposition === "unknown" ? `unknown: ${p.reason}` : p.disposition,
    );

  it.each([
    ["-A FORWARD -s 10.42.0.0/16", "drop"],
    ["-A FORWARD ! -s 10.42.0.0/16", "forward"],
    ["-A FORWARD -d 10.43.0.10/32 -p tcp", "drop"],
    ["-A FORWARD -p udp", "forward"],
    ["-A FORWARD ! -p udp", "drop"],
    ["-A FORWARD -i cni+", "drop"],
    ["-A FORWARD -i cni", "forward"],
    ["-A FORWARD ! -o eth+", "forward"],
    ["-A FORWARD -p tcp -m tcp --dport 1:100", "drop"],
    ["-A FORWARD -p tcp -m tcp ! --dport 80", "forward"],
    ["-A FORWARD -p tcp -m tcp --sport 40000", "drop"],
    ["-A FORWARD -p tcp --dport 80", "drop"],
    ["-A FORWARD -p tcp -m tcp --syn", "drop"],
    ["-A FORWARD -p tcp -m tcp --tcp-flags SYN,ACK ACK", "forward"],
    ["-A FORWARD -p tcp -m multiport --dports 443,70:90", "drop"],
    ["-A FORWARD -p tcp -m multiport ! --dports 443,8080", "drop"],
    ["-A FORWARD -p tcp -m multiport --ports 40000", "drop"],
    ['-A FORWARD -m comment --comment "a -j ACCEPT" -m nfacct --nfacct-name  x', "drop"],
    ["-A FORWARD -m mark --mark 0x0/0x4000", "drop"],
    ["-A FORWARD -m conntrack --ctstate NEW", "drop"],
    ["-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED", "forward"],
    ["-A FORWARD -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT", "drop"],
    ["-A FORWARD -m state --state NEW", "drop"],
    ["-A FORWARD -m conntrack --ctorigdst 10.43.0.0/16 --ctorigdstport 80", "drop"],
    ["-A FORWARD -m addrtype --dst-type LOCAL", "forward"],
    ["-A FORWARD -m addrtype ! --src-type LOCAL", "drop"],
    ["-A FORWARD -m limit --limit 1/min", "drop"],
    ["-A FORWARD -m hashlimit --hashlimit-above 1/sec --hashlimit-name x", "forward"],
    ["-A FORWARD -m iprange --src-range 10.42.0.1-10.42.0.9", "drop"],
    ["-A FORWARD -m recent --rcheck --name X", "forward"],
    ["-A FORWARD -m recent ! --rcheck --name X", "drop"],
    ["-A FORWARD -m recent --set --name X", "drop"],
    ["-A FORWARD -m statistic --mode nth --every 1", "drop"],
    ["-A FORWARD -m pkttype --pkt-type unicast", "drop"],
    ["-A FORWARD -f", "forward"],
  ])("%s -> %s", (rule, expected) => {
    expect(verdict(rule)).toEqual([expected]);
  });

  it.each([
    ["-A FORWARD -m set --match-set KUBE-CLUSTER-IP dst,dst", /ipset membership/],
    ["-A FORWARD -m physdev --physdev-is-bridged", /physdev depends on whether the packet crossed a bridge/],
    ["-A FORWARD -m statistic --mode nth --every 3 --packet 0", /depends on how many packets/],
    ["-A FORWARD -m owner --uid-owner 0", /"-m owner" is not simulated/],
    ["-A FORWARD -m frobnicate --x 1", /match module "frobnicate" is not known/],
    ["-A FORWARD -m addrtype --dst-type BLACKHOLE", /routing table/],
  ])("%s -> unknown", (rule, reason) => {
    const [v] = verdict(rule);
    expect(v).toMatch(/^unknown: Cannot decide line 5: /);
    expect(v).toMatch(reason);
  });

  it("an unknown match followed by a failing match is simply no match", () => {
    expect(verdict("-A FORWARD -m set --match-set S src -p udp")).toEqual(["forward"]);
  });

  it("decides physdev when the caller says the packet was not bridged", () => {
    const r = trace(filter("-A FORWARD -m physdev --physdev-is-bridged -j DROP\n"));
    expect(r.paths[0]!.disposition).toBe("unknown");
    const d = tracePacket(
      parseDump(
        filter(
          "-A FORWARD -m physdev --physdev-is-bridged -j DROP\n-A FORWARD -m physdev ! --physdev-is-in -j REJECT\n",
        ),
      ),
      { packet: POD, from: "pod" },
      { bridged: false },
    );
    expect(d.paths[0]!.disposition).toBe("reject");
  });

  it("nth with fresh counters matches when --packet is every-1", () => {
    const dump = parseDump(
      filter(
        "-A FORWARD -m statistic --mode nth --every 2 --packet 1 -j DROP\n-A FORWARD -m statistic --mode nth --every 2 --packet 0 -j REJECT\n",
      ),
    );
    expect(
      tracePacket(dump, { packet: POD, from: "pod" }, { nthCounters: "fresh" }).paths[0]!.disposition,
    ).toBe("drop");
  });

  it("a recent --set earlier on the path makes a later --rcheck match", () => {
    const r = trace(
      filter("-A FORWARD -m recent --set --name A\n-A FORWARD -m recent --rcheck --name A -j DROP\n"),
    );
    expect(summary(r)).toEqual(["drop 10.43.0.10:80"]);
  });

  it("addrtype LOCAL is unknown without the node's addresses", () => {
    const r = trace(filter("-A FORWARD -m addrtype --dst-type LOCAL -j DROP\n"), {}, { localIps: undefined });
    expect(r.paths[0]!.reason).toMatch(/give --local-ip/);
  });

  it("the in-interface is unknown when not given", () => {
    const r = trace(filter("-A FORWARD -i cni0 -j DROP\n"), {}, { inInterface: undefined });
    expect(r.paths[0]!.reason).toMatch(/in-interface/);
  });
});

describe("tracePacket: REJECT and the client's errno", () => {
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
    expect(trace(dump).paths[0]).toMatchObject({
      disposition: "reject",
      rejectWith: type,
      clientError: tcpErr,
    });
    expect(trace(dump, { protocol: "udp" }).paths[0]!.clientError).toBe(udpErr);
  });

  it("tcp-reset is a refused connection; a bare REJECT is port-unreachable", () => {
    expect(trace(filter("-A FORWARD -p tcp -j REJECT --reject-with tcp-reset\n")).paths[0]!.clientError).toBe(
      "ECONNREFUSED",
    );
    expect(trace(filter("-A FORWARD -j REJECT\n")).paths[0]).toMatchObject({
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
    expect(r.paths[0]).toMatchObject({ disposition: "drop", clientError: "EPERM" });
  });
});

describe("tracePacket: statistic branches", () => {
  const svc = (n: number) => {
    const lines = [];
    for (let i = 0; i < n; i++) {
      const prob = i < n - 1 ? ` -m statistic --mode random --probability ${(1 / (n - i)).toFixed(11)}` : "";
      lines.push(`-A SVC${prob} -j SEP${i}`);
    }
    const seps = Array.from(
      { length: n },
      (_, i) => `-A SEP${i} -p tcp -j DNAT --to-destination 10.42.0.${i + 10}:8080`,
    );
    return nat(
      `${chains(["SVC", ...Array.from({ length: n }, (_, i) => `SEP${i}`)])}-A PREROUTING -j SVC\n${lines.join("\n")}\n${seps.join("\n")}\n`,
    );
  };

  it("splits into one path per endpoint, each 1/n, summing to 1", () => {
    for (const n of [2, 3, 5]) {
      const r = trace(svc(n));
      expect(r.paths).toHaveLength(n);
      expect(r.paths.reduce((a, p) => a + p.probability, 0)).toBeCloseTo(1, 9);
      for (const p of r.paths) expect(p.probability).toBeCloseTo(1 / n, 9);
      expect(new Set(r.paths.map((p) => p.destination)).size).toBe(n);
    }
  });
});

describe("buildTraceIndex", () => {
  /** A KUBE-SERVICES-like chain long enough to be indexed, with generic rules mixed in. */
  const bigDump = (extra: string[]) => {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) {
      lines.push(
        `-A KUBE-SERVICES -d 10.43.0.${i % 20}/32 -p tcp -m tcp --dport ${80 + (i % 3)} -j MARK --or-mark 0x${(i + 1).toString(16)}`,
      );
      if (i % 7 === 0)
        lines.push(`-A KUBE-SERVICES -p tcp -m tcp --dport ${80 + (i % 3)} -j MARK --xor-mark 0x100`);
    }
    for (let i = 0; i < 30; i++)
      lines.push(
        `-A KUBE-NODEPORTS -p tcp -m tcp --dport ${30000 + i} -j MARK --or-mark 0x${(i + 1).toString(16)}0000`,
      );
    return nat(
      `${chains(["KUBE-SERVICES", "KUBE-NODEPORTS"])}-A PREROUTING -j KUBE-SERVICES\n-A PREROUTING -j KUBE-NODEPORTS\n${[...lines, ...extra].join("\n")}\n`,
    );
  };

  it("gives exactly the linear scan's result", () => {
    const ruleset = parseDump(
      bigDump([
        "-A KUBE-SERVICES ! -d 10.43.0.3/32 -j MARK --or-mark 0x80000000",
        '-A KUBE-SERVICES -m comment --comment "x -d 10.43.0.5" -j MARK --or-mark 0x40000000',
        '-A KUBE-NODEPORTS -p tcp -m comment --comment "fake --dport 30005 " -j MARK --or-mark 0x1000000',
        "-A KUBE-NODEPORTS -p tcp -m tcp ! --dport 30007 -j MARK --or-mark 0x2000000",
        "-A KUBE-NODEPORTS -p tcp -m multiport --dports 30001,30002 -j MARK --or-mark 0x4000000",
      ]),
    );
    const indexed = buildTraceIndex(ruleset);
    const linear = buildTraceIndex(ruleset, { dispatch: false });
    expect(indexed.indexedChains).toBe(2);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 22 }),
        fc.integer({ min: 79, max: 83 }),
        fc.integer({ min: 29998, max: 30032 }),
        (host, port, np) => {
          for (const dstPort of [port, np]) {
            const request: TraceRequest = {
              packet: { ...POD, dstIp: `10.43.0.${host}`, dstPort },
              from: "pod",
            };
            const a = tracePacket(ruleset, request, { index: indexed });
            const b = tracePacket(ruleset, request, { index: linear });
            expect(a).toEqual(b);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses an index built for another ruleset", () => {
    const a = parseDump(nat(""));
    const b = parseDump(nat(""));
    expect(() => tracePacket(a, { packet: POD, from: "pod" }, { index: buildTraceIndex(b) })).toThrow(
      TypeError,
    );
  });

  it("rejects non-IPv4 packets with a TypeError", () => {
    expect(() => trace(nat(""), { dstIp: "fd00::1" })).toThrow(
      /Cannot trace destination "fd00::1": not an IPv4 address/,
    );
  });
});
