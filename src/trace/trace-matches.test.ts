import { describe, expect, it } from "vitest";
import type { Packet } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { filter, outcome, POD, summary, trace } from "../testing/trace-test-helpers.ts";
import { tracePacket } from "./trace-packet.ts";

type RequestOverrides = Parameters<typeof trace>[2];

const verdict = (rule: string, packet: Partial<Packet> = {}, req: RequestOverrides = {}) =>
  trace(filter(`${rule} -j DROP\n`), packet, req).traces.map(outcome);

describe("tracePacket(): matches", () => {
  it.each([
    ["-A FORWARD -s 10.42.0.0/16", "dropped"],
    ["-A FORWARD ! -s 10.42.0.0/16", "forwarded"],
    ["-A FORWARD -d 10.43.0.10/32 -p tcp", "dropped"],
    ["-A FORWARD -p udp", "forwarded"],
    ["-A FORWARD ! -p udp", "dropped"],
    ["-A FORWARD -i cni+", "dropped"],
    ["-A FORWARD -i cni", "forwarded"],
    ["-A FORWARD ! -o eth+", "forwarded"],
    ["-A FORWARD -p tcp -m tcp --dport 1:100", "dropped"],
    ["-A FORWARD -p tcp -m tcp ! --dport 80", "forwarded"],
    ["-A FORWARD -p tcp -m tcp --sport 40000", "dropped"],
    ["-A FORWARD -p tcp --dport 80", "dropped"],
    ["-A FORWARD -p tcp -m tcp --syn", "dropped"],
    ["-A FORWARD -p tcp -m tcp --tcp-flags SYN,ACK ACK", "forwarded"],
    ["-A FORWARD -p tcp -m multiport --dports 443,70:90", "dropped"],
    ["-A FORWARD -p tcp -m multiport ! --dports 443,8080", "dropped"],
    ["-A FORWARD -p tcp -m multiport --ports 40000", "dropped"],
    ['-A FORWARD -m comment --comment "a -j ACCEPT" -m nfacct --nfacct-name  x', "dropped"],
    ["-A FORWARD -m mark --mark 0x0/0x4000", "dropped"],
    ["-A FORWARD -m conntrack --ctstate NEW", "dropped"],
    ["-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED", "forwarded"],
    ["-A FORWARD -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT", "dropped"],
    ["-A FORWARD -m state --state NEW", "dropped"],
    ["-A FORWARD -m conntrack --ctorigdst 10.43.0.0/16 --ctorigdstport 80", "dropped"],
    ["-A FORWARD -m addrtype --dst-type LOCAL", "forwarded"],
    ["-A FORWARD -m addrtype ! --src-type LOCAL", "dropped"],
    ["-A FORWARD -m limit --limit 1/min", "dropped"],
    ["-A FORWARD -m hashlimit --hashlimit-above 1/sec --hashlimit-name x", "forwarded"],
    ["-A FORWARD -m iprange --src-range 10.42.0.1-10.42.0.9", "dropped"],
    ["-A FORWARD -m recent --rcheck --name X", "forwarded"],
    ["-A FORWARD -m recent ! --rcheck --name X", "dropped"],
    ["-A FORWARD -m recent --set --name X", "dropped"],
    ["-A FORWARD -m statistic --mode nth --every 1", "dropped"],
    ["-A FORWARD -m pkttype --pkt-type unicast", "dropped"],
    ["-A FORWARD -f", "forwarded"],
  ])("%s -> %s", (rule, expected) => {
    expect(verdict(rule)).toEqual([expected]);
  });
});

describe("tracePacket(): matches a dump cannot decide", () => {
  it.each([
    ["-A FORWARD -m set --match-set KUBE-CLUSTER-IP dst,dst", /ipset membership/],
    ["-A FORWARD -m statistic --mode nth --every 3 --packet 0", /depends on how many packets/],
    ["-A FORWARD -m owner --uid-owner 0", /"-m owner" is not simulated/],
    ["-A FORWARD -m frobnicate --x 1", /match module "frobnicate" is not known/],
    ["-A FORWARD -m addrtype --dst-type BLACKHOLE", /routing table/],
  ])("%s -> undecided", (rule, reason) => {
    const [v] = verdict(rule);
    expect(v).toMatch(/^undecided: Cannot decide line 5: /);
    expect(v).toMatch(reason);
  });

  it("physdev is undecided when the out-interface is not known (routed or bridged?)", () => {
    const [v] = verdict("-A FORWARD -m physdev --physdev-is-bridged", {}, { outInterface: undefined });
    expect(v).toMatch(
      /^undecided: Cannot decide line 5: physdev depends on whether the packet crossed a bridge/,
    );
  });

  it("an unknown match followed by a failing match is simply no match", () => {
    expect(verdict("-A FORWARD -m set --match-set S src -p udp")).toEqual(["forwarded"]);
  });

  it("decides physdev when the caller says the packet was not bridged", () => {
    const r = trace(
      filter("-A FORWARD -m physdev --physdev-is-bridged -j DROP\n"),
      {},
      { outInterface: undefined },
    );
    expect(r.traces[0]!.disposition).toMatchObject({ kind: "undecided", needs: "bridge-crossing" });
    const d = tracePacket(
      parseDump(
        filter(
          "-A FORWARD -m physdev --physdev-is-bridged -j DROP\n-A FORWARD -m physdev ! --physdev-is-in -j REJECT\n",
        ),
      ),
      { packet: POD, from: "pod", localIps: ["192.168.1.10"] },
      { bridged: false },
    );
    expect(d.traces[0]!.disposition.kind).toBe("rejected");
  });

  it("nth with fresh counters matches when --packet is every-1", () => {
    const dump = parseDump(
      filter(
        "-A FORWARD -m statistic --mode nth --every 2 --packet 1 -j DROP\n-A FORWARD -m statistic --mode nth --every 2 --packet 0 -j REJECT\n",
      ),
    );
    expect(
      tracePacket(dump, { packet: POD, from: "pod", localIps: ["192.168.1.10"] }, { nthCounters: "fresh" })
        .traces[0]!.disposition.kind,
    ).toBe("dropped");
  });

  it("a recent --set earlier on the path makes a later --rcheck match", () => {
    const r = trace(
      filter("-A FORWARD -m recent --set --name A\n-A FORWARD -m recent --rcheck --name A -j DROP\n"),
    );
    expect(summary(r)).toEqual(["dropped 10.43.0.10:80"]);
  });

  it("addrtype LOCAL is unknown without the node's addresses", () => {
    const r = trace(filter("-A FORWARD -m addrtype --dst-type LOCAL -j DROP\n"), {}, { localIps: undefined });
    expect(r.traces[0]!.disposition).toMatchObject({ kind: "undecided", needs: "node-addresses" });
    expect(outcome(r.traces[0]!)).toMatch(/give --local-ip/);
  });

  it("the in-interface is unknown when not given", () => {
    const r = trace(filter("-A FORWARD -i cni0 -j DROP\n"), {}, { inInterface: undefined });
    expect(r.traces[0]!.disposition).toMatchObject({ kind: "undecided", needs: "in-interface" });
    expect(outcome(r.traces[0]!)).toMatch(/in-interface/);
  });
});
