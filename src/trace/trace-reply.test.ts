/**
 * The reply of a tracked connection (TraceRequest.reply): hand-written from netfilter's conntrack
 * semantics. A reply is ESTABLISHED in direction REPLY; the nat table's rules are walked only for a
 * connection's first packet (nf_nat_inet_fn skips an initialized NAT binding), so a reply meets no
 * nat rule. The kernel oracle for replies through kube-router's `--ctstate RELATED,ESTABLISHED`
 * rules is the overlay lab (case kube-router-bridged).
 */
import { describe, expect, it } from "vitest";
import { filter, nat, outcome, trace } from "../testing/trace-test-helpers.ts";

const REPLY = { reply: true };

describe("tracePacket() of a reply (ESTABLISHED, direction REPLY)", () => {
  it("--ctstate ESTABLISHED matches the reply, NEW only the request", () => {
    const dump = filter(
      "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -m conntrack --ctstate NEW -j REJECT\n",
    );
    expect(trace(dump, {}, REPLY).traces.map(outcome)).toEqual(["forwarded"]);
    expect(trace(dump).traces.map(outcome)).toEqual(["rejected"]);
    expect(
      trace(filter("-A FORWARD -m state --state ESTABLISHED -j DROP\n"), {}, REPLY).traces.map(outcome),
    ).toEqual(["dropped"]);
  });

  it("--ctdir REPLY matches the reply only", () => {
    const dump = filter("-A FORWARD -m conntrack --ctdir REPLY -j DROP\n");
    expect(trace(dump, {}, REPLY).traces.map(outcome)).toEqual(["dropped"]);
    expect(trace(dump).traces.map(outcome)).toEqual(["forwarded"]);
  });

  it("meets no nat rule: a DNAT in PREROUTING does not rewrite the reply", () => {
    const dump = `${nat("-A PREROUTING -p tcp -j DNAT --to-destination 10.42.9.9:8080\n")}${filter("")}`;
    const r = trace(dump, {}, REPLY);
    expect(r.traces.map((t) => t.headers.dst)).toEqual([{ kind: "exact", ip: "10.43.0.10", port: 80 }]);
    expect(trace(dump).traces.map((t) => t.headers.dst)).toEqual([
      { kind: "exact", ip: "10.42.9.9", port: 8080 },
    ]);
  });

  it("the original tuple and the DNAT/SNAT state of a reply are undecided (another hop's NAT)", () => {
    for (const rule of [
      "-A FORWARD -m conntrack --ctorigdst 10.43.0.10 -j DROP\n",
      "-A FORWARD -m conntrack --ctorigdstport 80 -j DROP\n",
      "-A FORWARD -m conntrack --ctstate DNAT -j DROP\n",
    ]) {
      const d = trace(filter(rule), {}, REPLY).traces[0]!.disposition;
      expect(d, rule).toMatchObject({ kind: "undecided", needs: "connection-history" });
    }
    // ESTABLISHED decides before the unknown DNAT state is needed.
    const d = trace(filter("-A FORWARD -m conntrack --ctstate DNAT,ESTABLISHED -j DROP\n"), {}, REPLY);
    expect(d.traces.map(outcome)).toEqual(["dropped"]);
  });
});
