import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { parseConntrack } from "./conntrack.ts";

describe("parseConntrack()", () => {
  it("reads real `conntrack -L -o extended` output: the stale DNS entry of the lab", () => {
    const t = parseConntrack(fixtureText("lab/stale-conntrack-dns/nodes/node-a/conntrack.txt"), {
      file: "c",
    });
    expect(t.warnings).toEqual([]);
    expect(t.truncated).toBeUndefined();
    const dns = t.entries.find((e) => e.original.dst === "198.19.0.10" && e.original.sport === 40053);
    expect(dns).toMatchObject({
      family: "ipv4",
      protocol: "udp",
      original: { src: "198.18.1.10", dst: "198.19.0.10", sport: 40053, dport: 53 },
      reply: { src: "198.18.3.10", dst: "198.18.1.10", sport: 53, dport: 40053 },
    });
  });

  it("reads TCP state and flags, and the collector's truncation line", () => {
    const t = parseConntrack(
      "ipv4     2 tcp      6 431999 ESTABLISHED src=10.42.0.5 dst=10.43.0.1 sport=40000 dport=443 src=10.42.1.7 dst=10.42.0.5 sport=6443 dport=40000 [ASSURED] mark=0 zone=3 use=1\n# netdoctor: truncated: 17 more entries not shown (limit 20000 entries, UDP first)\ngarbage\n",
      { file: "c" },
    );
    expect(t.entries[0]).toMatchObject({
      state: "ESTABLISHED",
      flags: ["ASSURED"],
      zone: 3,
      timeout: 431999,
    });
    expect(t.truncated).toMatchObject({ omitted: 17, limit: 20000, evidence: { line: 2 } });
    expect(t.warnings).toMatchObject([{ line: 3 }]);
  });
});
