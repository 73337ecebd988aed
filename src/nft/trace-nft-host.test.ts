/**
 * traceNftHost() on real dumps (testdata/nft/) with hand-written expectations: what each rule of
 * testdata/nft/kitchen-sink.nft does to a packet, where the walk cannot decide and why, and the
 * iptables-nft table that must be read from iptables-nft-save. The kernel suites
 * (trace-nft-host.kernel/random.test.ts) check the same semantics against real connections.
 */
import { describe, expect, it } from "vitest";
import { storedDump } from "../testing/nft-testdata.ts";
import { parseNftRuleset } from "./parse-nft-json.ts";
import { type NftHostRequest, traceNftHost } from "./trace-nft-host.ts";

const k = storedDump("kitchen-sink.nft");
const kitchen = parseNftRuleset(k.json, { text: k.text });
const FILES = { json: "nodes/n1/nft-ruleset.json", text: "nodes/n1/nft-ruleset.txt" };

function toNode(
  dport: number,
  extra: Partial<NftHostRequest> & { src?: string; proto?: "tcp" | "udp" } = {},
) {
  const { src, proto, ...rest } = extra;
  return traceNftHost(
    kitchen,
    {
      packet: {
        protocol: proto ?? "tcp",
        srcIp: src ?? "172.16.0.1",
        srcPort: 40000,
        dstIp: "1.2.3.4",
        dstPort: dport,
      },
      from: "pod",
      inInterface: "eth1",
      ...rest,
    },
    { localIps: ["1.2.3.4"], routeInterface: () => "eth0", files: FILES },
  );
}

const summary = (r: ReturnType<typeof toNode>) =>
  r.paths.map((p) => `${p.probability} ${p.disposition}${p.clientError ? ` ${p.clientError}` : ""}`).sort();

describe("traceNftHost()", () => {
  it("accepts by a named verdict map, with the rule's line and handle as evidence", () => {
    const r = toNode(80);
    expect(summary(r)).toEqual(["1 local"]);
    const step = r.paths[0]!.steps.find((s) => s.handle === 14)!;
    expect(step).toMatchObject({ table: "fw", chain: "input", action: "vmap @pm: accept" });
    expect(step.evidence).toEqual({
      file: "nodes/n1/nft-ruleset.txt",
      line: 31,
      handle: 14,
      text: "meta l4proto . th dport vmap @pm # handle 14",
    });
  });

  it("drops by a verdict map entry and matches interval sets", () => {
    expect(summary(toNode(53, { proto: "udp" }))).toEqual(["1 drop"]);
    expect(summary(toNode(8050))).toEqual(["1 local"]);
    expect(summary(toNode(5000, { src: "192.168.1.5" }))).toEqual(["1 local"]);
  });

  it("rejects at the end of the chain with the icmpx code's errno", () => {
    const r = toNode(5000);
    expect(r.paths).toHaveLength(1);
    expect(r.paths[0]).toMatchObject({
      disposition: "reject",
      rejectWith: "icmp-admin-prohibited",
      clientError: "EHOSTUNREACH",
    });
    expect(r.paths[0]!.steps.at(-1)).toMatchObject({
      handle: 27,
      action: "reject with icmpx admin-prohibited",
    });
  });

  it("follows goto then return to the base chain's policy", () => {
    const r = toNode(5000, { mark: 0x101 });
    expect(summary(r)).toEqual(["1 drop"]);
    expect(r.paths[0]!.steps.slice(-3).map((s) => `${s.chain}:${s.action}`)).toEqual([
      "input:goto sub",
      "sub:return",
      "input:policy drop",
    ]);
  });

  it("forks on meta random and numgen with their probabilities", () => {
    expect(summary(toNode(28))).toEqual(["0.5 local", "0.5 reject EHOSTUNREACH"]);
    expect(summary(toNode(29))).toEqual(["0.25 drop", "0.25 drop", "0.25 drop", "0.25 local"]);
  });

  it("is undecided at a rule it cannot evaluate, and says which and why", () => {
    const r = toNode(25);
    expect(r.paths).toHaveLength(1);
    expect(r.paths[0]!.disposition).toBe("unknown");
    expect(r.paths[0]!.reason).toBe("rule handle 20 in chain input: statement limit is not modelled");
    expect(toNode(27).paths[0]!.reason).toBe(
      "rule handle 23 in chain input: expression jhash is not modelled",
    );
  });

  it("skips a rule it cannot evaluate when nothing it does changes the packet (limit + log)", () => {
    expect(summary(toNode(26))).toEqual(["1 reject EHOSTUNREACH"]);
  });

  it("applies NAT maps once, at prerouting, and reports the rewritten destination", () => {
    const r = traceNftHost(
      kitchen,
      {
        packet: { protocol: "tcp", srcIp: "172.16.0.1", srcPort: 1, dstIp: "1.1.1.1", dstPort: 22 },
        from: "pod",
        inInterface: "eth1",
      },
      { localIps: ["1.2.3.4", "2.2.2.2"], files: FILES },
    );
    expect(r.paths.map((p) => `${p.disposition} ${p.destination}`)).toEqual(["local 2.2.2.2:22"]);
    expect(r.paths[0]!.steps[0]).toMatchObject({ chain: "pre", handle: 31, action: "dnat to 2.2.2.2" });
  });

  it("runs no chain of a dormant table (its drop policy would drop everything at input)", () => {
    expect(toNode(80).paths[0]!.steps.some((s) => s.table === "dorm")).toBe(false);
  });

  it("evaluates the ingress chain only on its device", () => {
    const onLo = traceNftHost(
      kitchen,
      {
        packet: { protocol: "tcp", srcIp: "1.2.3.4", srcPort: 1, dstIp: "1.2.3.4", dstPort: 9 },
        from: "host",
      },
      { localIps: ["1.2.3.4"], files: FILES },
    );
    expect(onLo.paths.map((p) => `${p.disposition} ${p.hook}`)).toEqual(["drop ingress"]);
    expect(summary(toNode(9))).toEqual(["1 reject EHOSTUNREACH"]);
  });

  it("is undecided at an ingress chain whose devices the JSON alone does not give", () => {
    const noText = parseNftRuleset(k.json);
    const r = traceNftHost(
      noText,
      {
        packet: { protocol: "tcp", srcIp: "172.16.0.1", srcPort: 1, dstIp: "1.2.3.4", dstPort: 80 },
        from: "pod",
        inInterface: "eth1",
      },
      { localIps: ["1.2.3.4"], files: { json: FILES.json } },
    );
    expect(r.paths.map((p) => p.disposition)).toEqual(["unknown"]);
    expect(r.paths[0]!.reason).toBe("devices of inet fw ing are unknown");
  });
});

describe("traceNftHost() on an iptables-nft dump", () => {
  const d = storedDump("iptables-nft.save");
  const rs = parseNftRuleset(d.json, { text: d.text });
  const trace = (dst: string, dport: number, src = "10.1.1.1") =>
    traceNftHost(
      rs,
      {
        packet: { protocol: "tcp", srcIp: src, srcPort: 1, dstIp: dst, dstPort: dport },
        from: "pod",
        inInterface: "eth1",
      },
      {
        localIps: ["10.9.9.9"],
        routeInterface: () => "eth0",
        masqueradeAddress: () => "10.9.9.9",
        files: FILES,
      },
    );

  it("evaluates what iptables-nft translated natively", () => {
    const r = trace("10.2.2.2", 80, "192.168.1.1");
    expect(r.paths.map((p) => `${p.disposition} ${p.source}`)).toEqual(["forward 192.168.1.1:1"]);
    expect(r.paths[0]!.steps.map((s) => `${s.table} ${s.chain} ${s.handle ?? "policy"}`)).toEqual([
      "nat PREROUTING policy",
      "filter FORWARD 8",
      "nat POSTROUTING policy",
    ]);
  });

  it("is undecided at an xt expression and says to read iptables-nft-save", () => {
    const r = trace("1.2.3.4", 80);
    expect(r.paths.map((p) => p.disposition)).toEqual(["unknown"]);
    expect(r.paths[0]!.reason).toBe(
      "rule handle 5 in chain PREROUTING: xt target DNAT (written by iptables-nft: read this chain from iptables-nft-save)",
    );
  });
});

describe("traceNftHost() steps", () => {
  const lab = storedDump("kube-proxy-lab.nft");
  const rs = parseNftRuleset(lab.json, { text: lab.text });
  const opts = {
    localIps: ["198.18.0.1"],
    routeInterface: () => "eth0",
    masqueradeAddress: () => "198.18.0.1",
    files: FILES,
  };

  it("types what each rule did the way the trace model names it (mark ops, branches, NAT, policy)", () => {
    const r = traceNftHost(
      rs,
      {
        packet: { protocol: "tcp", srcIp: "198.18.0.1", srcPort: 1, dstIp: "198.19.100.2", dstPort: 80 },
        from: "host",
      },
      opts,
    );
    expect(r.paths).toHaveLength(3);
    const p = r.paths.find((x) => x.destination === "198.18.2.2:80")!;
    expect(p.probability).toBeCloseTo(1 / 3, 12);
    const acts = p.steps.flatMap((s) => s.acts.map((a) => `${s.chain}: ${JSON.stringify(a)}`));
    expect(acts).toContain(
      'mark-for-masquerade: {"kind":"mark","on":"meta","op":"or-mark","value":"0x4000"}',
    );
    expect(acts).toContain(
      'service-42NFTM6N-ns2/svc2/tcp/p80: {"kind":"branch","label":"numgen random 2/3","probability":0.3333333333333333}',
    );
    expect(acts).toContain(
      'endpoint-5BUTKEBR-ns2/svc2/tcp/p80__198.18.2.2/80: {"kind":"dnat","to":"198.18.2.2:80"}',
    );
    expect(acts).toContain('masquerading: {"kind":"mark","on":"meta","op":"xor-mark","value":"0x4000"}');
    expect(acts).toContain('masquerading: {"kind":"masquerade","to":"198.18.0.1"}');
    expect(acts).toContain('filter-output: {"kind":"policy","policy":"accept"}');
    expect(p.source).toBe("198.18.0.1:1");
  });

  it("says refused for a Service without endpoints and rejects with iptables' reply name", () => {
    const r = traceNftHost(
      rs,
      {
        packet: { protocol: "tcp", srcIp: "198.18.1.2", srcPort: 1, dstIp: "198.19.100.3", dstPort: 80 },
        from: "pod",
        inInterface: "veth1",
      },
      opts,
    );
    expect(r.paths.map((p) => `${p.disposition} ${p.clientError}`)).toEqual(["reject ECONNREFUSED"]);
    expect(r.paths[0]!.steps.at(-1)!.acts).toEqual([{ kind: "reject", rejectWith: "icmp-port-unreachable" }]);
  });
});

describe("traceNftHost() with a delegate", () => {
  it("lets the caller evaluate a base chain from other evidence, in its place in priority order", () => {
    const d = storedDump("iptables-nft.save");
    const rs = parseNftRuleset(d.json, { text: d.text });
    const seen: string[] = [];
    const r = traceNftHost(
      rs,
      {
        packet: { protocol: "tcp", srcIp: "10.1.1.1", srcPort: 1, dstIp: "1.2.3.4", dstPort: 80 },
        from: "pod",
        inInterface: "eth1",
      },
      {
        localIps: ["10.9.9.9"],
        routeInterface: () => "eth0",
        files: FILES,
        delegate: (table, chain, st) => {
          seen.push(`${table.name} ${chain.name}`);
          if (table.owner !== "iptables-nft") return undefined;
          // As iptables-save would say: DNAT in nat PREROUTING, everything else accepted.
          if (chain.name === "PREROUTING") {
            st.dst = 0x05060708;
            st.natDst = true;
          }
          if (chain.name === "POSTROUTING") st.natSrc = true;
          return [{ state: st, end: { kind: "accept", by: chain.name === "PREROUTING" ? "nat" : "rule" } }];
        },
      },
    );
    expect(seen).toEqual(["nat PREROUTING", "filter FORWARD", "nat POSTROUTING"]);
    expect(r.paths.map((p) => `${p.disposition} ${p.destination}`)).toEqual(["forward 5.6.7.8:80"]);
  });
});
