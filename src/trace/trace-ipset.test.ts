import { describe, expect, it } from "vitest";
import { parseIpsetSave } from "../ipset/parse-ipset-save.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { chains, filter, outcome, POD } from "../testing/trace-test-helpers.ts";
import { tracePacket } from "./trace-packet.ts";

const FILE = "nodes/n1/ipset-save.txt";
// The packet: 10.42.0.5:40000 -> 10.43.0.10:80/tcp (POD), forwarded through the node.
const sets = parseIpsetSave(
  [
    "create KUBE-SRC-A hash:ip family inet hashsize 1024 maxelem 65536 timeout 0",
    "add KUBE-SRC-A 10.42.0.5 timeout 0",
    "create KUBE-DST-B hash:ip family inet hashsize 1024 maxelem 65536 timeout 0",
    "add KUBE-DST-B 10.42.9.9 timeout 0",
    "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536",
    "add KUBE-CLUSTER-IP 10.43.0.10,tcp:80",
    "create PORTS hash:ip,port family inet",
    "add PORTS 10.42.0.5,tcp:40000",
  ].join("\n"),
  { file: FILE },
);

function run(rules: string, options: { ipsets?: typeof sets } = { ipsets: sets }) {
  const dump = filter(`${rules}`);
  return tracePacket(
    parseDump(dump),
    { packet: POD, from: "pod", localIps: ["192.168.1.10"], inInterface: "cni0", outInterface: "eth0" },
    { file: "nodes/n1/iptables-save.txt", ...options },
  );
}

describe("tracePacket(): -m set with the node's ipsets", () => {
  it.each([
    ["-A FORWARD -m set --match-set KUBE-SRC-A src -j DROP\n", "dropped"],
    ["-A FORWARD -m set --match-set KUBE-SRC-A dst -j DROP\n", "forwarded"],
    ["-A FORWARD -m set ! --match-set KUBE-SRC-A src -j DROP\n", "forwarded"],
    ["-A FORWARD -m set --match-set KUBE-DST-B dst -j DROP\n", "forwarded"],
    ["-A FORWARD -m set ! --match-set KUBE-DST-B dst -j DROP\n", "dropped"],
    // hash:ip,port with dst,dst reads the destination address and port (kube-proxy's IPVS glue).
    ["-A FORWARD -m set --match-set KUBE-CLUSTER-IP dst,dst -j DROP\n", "dropped"],
    // With one flag a two-dimensional set never matches (xt_set checks the dimension count).
    ["-A FORWARD -m set --match-set KUBE-CLUSTER-IP dst -j DROP\n", "forwarded"],
    ["-A FORWARD -m set --match-set PORTS src,src -j DROP\n", "dropped"],
    ["-A FORWARD -m set --match-set KUBE-SRC-A src -m set --match-set KUBE-DST-B dst -j DROP\n", "forwarded"],
  ])("%s-> %s", (rule, expected) => {
    expect(run(rule).traces.map(outcome)).toEqual([expected]);
  });

  it("a rule a set decided is the step that stops the path, with its line", () => {
    const r = run(
      `${chains(["KUBE-POD-FW-X"])}-A FORWARD -j KUBE-POD-FW-X\n-A KUBE-POD-FW-X -m comment --comment "rule to REJECT" -m set ! --match-set KUBE-DST-B dst -j REJECT --reject-with icmp-port-unreachable\n`,
    );
    const d = r.traces[0]!.disposition;
    expect(d.kind).toBe("rejected");
    if (d.kind !== "rejected") return;
    expect(d.by).toMatchObject({
      chain: "KUBE-POD-FW-X",
      evidence: { file: "nodes/n1/iptables-save.txt", line: 7 },
    });
  });

  it("stays undecided (needs ipset-members) without the node's ipset save", () => {
    const d = run("-A FORWARD -m set --match-set KUBE-SRC-A src -j DROP\n", {}).traces[0]!.disposition;
    expect(d).toMatchObject({ kind: "undecided", needs: "ipset-members" });
    if (d.kind === "undecided") expect(d.reason).toMatch(/ipset-save\.txt\) was not collected/);
  });

  it("stays undecided (needs ipset-members) when the set is not in the file", () => {
    const d = run("-A FORWARD -m set --match-set KUBE-SRC-GONE src -j DROP\n").traces[0]!.disposition;
    expect(d).toMatchObject({ kind: "undecided", needs: "ipset-members" });
    if (d.kind === "undecided")
      expect(d.reason).toMatch(/KUBE-SRC-GONE is not in nodes\/n1\/ipset-save\.txt/);
  });

  it("needs the source port for a src,src port set when the packet has none", () => {
    const r = tracePacket(
      parseDump(filter("-A FORWARD -m set --match-set PORTS src,src -j DROP\n")),
      {
        packet: { protocol: "tcp", srcIp: POD.srcIp, dstIp: POD.dstIp, dstPort: 80 },
        from: "pod",
        localIps: ["192.168.1.10"],
      },
      { ipsets: sets },
    );
    expect(r.traces[0]!.disposition).toMatchObject({ kind: "undecided", needs: "source-port" });
  });
});
