/**
 * traceHost() without root, on the stored real nft dump of iptables-nft's tables (testdata/nft/
 * iptables-nft.{json,txt}, printed by nft 1.0.6 from iptables-nft.save) with that iptables dump, and
 * hand-written legacy rules. Expectations are written by hand from the rules' lines.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkTraceSteps, type Step } from "../model/trace.ts";
import { parseNftRuleset } from "../nft/parse-nft-json.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { storedDump } from "../testing/nft-testdata.ts";
import { type HostEvidence, interfaceFor, legacyNotRead, traceHost } from "./trace-host.ts";

const d = storedDump("iptables-nft.save");
const EVIDENCE: HostEvidence = {
  nft: { ruleset: parseNftRuleset(d.json, { text: d.text }), files: { json: "n.json", text: "n.txt" } },
  iptables: { ruleset: parseDump(readFileSync("testdata/nft/iptables-nft.save", "utf8")), file: "ipt.txt" },
};
const LEGACY = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 5.6.7.8/32 -p tcp -m tcp --dport 80 -j DROP
COMMIT
`;

function trace(
  dstIp: string,
  dstPort: number,
  evidence = EVIDENCE,
  localIps: string[] | null = ["10.9.9.9"],
) {
  return traceHost(
    evidence,
    {
      packet: { protocol: "tcp", srcIp: "10.1.1.1", srcPort: 40000, dstIp, dstPort },
      from: "pod",
      inInterface: "eth1",
      ...(localIps === null ? {} : { localIps }),
    },
    { routeInterface: () => "eth0" },
  );
}

const where = (s: Step) =>
  s.kind === "filter" || s.kind === "transform"
    ? `${s.backend} ${s.table} ${s.chain}:${s.evidence.file}:${s.evidence.line}`
    : s.kind;

describe("traceHost()", () => {
  it("walks iptables-nft's tables from iptables-save in the nft walk: DNAT, ACCEPT, MASQUERADE with their lines", () => {
    const r = trace("1.2.3.4", 80);
    expect(r.tables).toEqual(["iptables-nft filter (ipt.txt)", "iptables-nft nat (ipt.txt)"]);
    const t = r.result.traces[0]!;
    checkTraceSteps(t);
    expect(r.result.traces).toHaveLength(1);
    expect(t.disposition).toEqual({ kind: "forwarded" });
    expect(t.headers.dst).toEqual({ kind: "exact", ip: "5.6.7.8", port: 80 });
    expect(t.headers.src.kind).toBe("out-interface");
    expect(t.hops[0]!.steps.map(where)).toEqual([
      "iptables nat PREROUTING:ipt.txt:18",
      "iptables filter FORWARD:ipt.txt:10",
      "iptables nat POSTROUTING:ipt.txt:19",
    ]);
  });

  it("ends at iptables-nft's FORWARD DROP policy, by the policy's line", () => {
    const t = trace("5.6.7.9", 8080).result.traces[0]!;
    expect(t.disposition.kind).toBe("dropped");
    expect(t.hops[0]!.steps.at(-1)).toMatchObject({
      backend: "iptables",
      table: "filter",
      chain: "FORWARD",
      action: { kind: "policy", policy: "DROP" },
      evidence: { file: "ipt.txt", line: 3 },
    });
  });

  it("adds legacy tables at iptables' priorities: a legacy DROP after the iptables-nft ACCEPT is final", () => {
    const legacy = { ruleset: parseDump(LEGACY), file: "legacy.txt" };
    const r = trace("1.2.3.4", 80, { ...EVIDENCE, legacy });
    expect(r.tables).toContain("iptables-legacy filter (legacy.txt)");
    const t = r.result.traces[0]!;
    expect(t.disposition.kind).toBe("dropped");
    expect(t.hops[0]!.steps.at(-1)).toMatchObject({
      backend: "iptables",
      table: "filter",
      chain: "FORWARD",
      action: { kind: "drop" },
      evidence: { file: "legacy.txt", line: 5 },
    });
    // Both filter FORWARD chains sit at priority 0: the order is an assumption, and says so.
    expect(r.assumptions.some((a) => a.includes("share priority 0 at forward"))).toBe(true);
  });

  it("is undecided, never forwarded, without the node's addresses", () => {
    const t = trace("1.2.3.4", 80, EVIDENCE, null).result.traces[0]!;
    expect(t.disposition).toMatchObject({ kind: "undecided", needs: "node-addresses" });
  });
});

describe("interfaceFor() and legacyNotRead()", () => {
  it("finds the bridge whose subnet holds a pod's address, never a /32", () => {
    const ev = {
      subnets: [
        { ifname: "lo", cidr: "127.0.0.1/8" },
        { ifname: "flannel.1", cidr: "10.42.0.0/32" },
        { ifname: "cni0", cidr: "10.42.0.1/24" },
      ],
    };
    expect(interfaceFor(ev, "10.42.0.12")).toBe("cni0");
    expect(interfaceFor(ev, "10.42.1.12")).toBeUndefined();
  });

  it("names the legacy tables iptables-nft announces when iptables-legacy-save.txt was not read", () => {
    const dump = parseDump(
      "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
    );
    expect(legacyNotRead(dump, {}, "n1")).toEqual([
      "legacy xtables tables (iptables-save.txt line 1 says they exist; nodes/n1/iptables-legacy-save.txt is missing)",
    ]);
    expect(legacyNotRead(dump, { legacy: { ruleset: dump, file: "x" } }, "n1")).toEqual([]);
  });
});
