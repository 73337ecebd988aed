import { describe, expect, it } from "vitest";
import { parseConntrack } from "./conntrack.ts";
import { conntrackRewrite } from "./conntrack-rewrite.ts";

const table = parseConntrack(
  "ipv4     2 udp      17 29 src=198.18.1.10 dst=198.19.0.10 sport=40053 dport=53 src=198.18.3.10 dst=198.18.1.10 sport=53 dport=40053 mark=0 use=1\n",
  { file: "nodes/a/conntrack.txt" },
);

describe("conntrackRewrite()", () => {
  it("sends a packet of a known flow where its entry says, not where the rules would", () => {
    const hit = conntrackRewrite(
      { protocol: "udp", srcIp: "198.18.1.10", srcPort: 40053, dstIp: "198.19.0.10", dstPort: 53 },
      table,
    );
    expect(hit?.packet).toEqual({
      protocol: "udp",
      srcIp: "198.18.1.10",
      srcPort: 40053,
      dstIp: "198.18.3.10",
      dstPort: 53,
    });
    expect(hit?.evidence).toMatchObject({ file: "nodes/a/conntrack.txt", line: 1 });
  });

  it("leaves a new flow (another source port) to the rules", () => {
    expect(
      conntrackRewrite(
        { protocol: "udp", srcIp: "198.18.1.10", srcPort: 40054, dstIp: "198.19.0.10", dstPort: 53 },
        table,
      ),
    ).toBeUndefined();
  });
});
