import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsUnavailable, skipBecause } from "./capabilities.ts";
import { createLab, type Lab, outcomeKey } from "./netns-lab.ts";

const skip = skipBecause(netnsUnavailable(), "netns lab tests");

const ruleset = (nat: string, filter = "") =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${nat}COMMIT\n` +
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${filter}COMMIT\n`;

describe.skipIf(skip)("netns lab", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({
      area: "trace",
      pods: [{ name: "pod", ip: "198.18.1.2" }],
      servers: [{ name: "ep1", ip: "198.18.2.1", tcpPorts: [8080], udpPorts: [53] }],
      world: { tcpPorts: [80] },
      nodeTcpPorts: [30080],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("refuses addresses outside 198.18.0.0/15", async () => {
    await expect(createLab({ area: "trace", pods: [{ name: "p", ip: "10.0.0.1" }] })).rejects.toThrow(
      /only 198.18.0.0\/15/,
    );
  });

  it("forwards an unmatched packet to the world namespace unchanged", async () => {
    await lab.load(ruleset(""));
    const r = await lab.probe({ from: "pod", protocol: "tcp", dstIp: "198.19.0.10", dstPort: 80 });
    expect(r).toMatchObject({ outcome: "answer", server: "world", destination: "198.19.0.10:80" });
    expect(r.source).toMatch(/^198\.18\.1\.2:/);
  });

  it("sees DNAT and MASQUERADE", async () => {
    await lab.load(
      ruleset(
        "-A PREROUTING -d 198.19.0.10/32 -p tcp --dport 80 -j DNAT --to-destination 198.18.2.1:8080\n-A POSTROUTING -d 198.18.2.1/32 -j MASQUERADE\n",
      ),
    );
    const r = await lab.probe({ from: "pod", protocol: "tcp", dstIp: "198.19.0.10", dstPort: 80 });
    expect(r).toMatchObject({ outcome: "answer", server: "ep1", destination: "198.18.2.1:8080" });
    expect(r.source).toMatch(/^198\.18\.0\.1:/);
  });

  it("delivers locally to the node, and probes from the node itself", async () => {
    await lab.load(ruleset(""));
    const a = await lab.probe({ from: "pod", protocol: "tcp", dstIp: "198.18.0.1", dstPort: 30080 });
    expect(outcomeKey(a)).toBe("answer node 198.18.0.1:30080");
    const b = await lab.probe({ from: "node", protocol: "tcp", dstIp: "198.18.2.1", dstPort: 8080 });
    expect(outcomeKey(b)).toBe("answer ep1 198.18.2.1:8080");
  });

  it("reports DROP as a timeout and REJECT as the kernel's errno", async () => {
    await lab.load(
      ruleset(
        "",
        "-A FORWARD -p tcp --dport 80 -j DROP\n-A FORWARD -p tcp -j REJECT --reject-with tcp-reset\n",
      ),
    );
    const drop = await lab.probe({
      from: "pod",
      protocol: "tcp",
      dstIp: "198.19.0.10",
      dstPort: 80,
      timeoutMs: 300,
    });
    expect(drop.outcome).toBe("timeout");
    const rst = await lab.probe({ from: "pod", protocol: "tcp", dstIp: "198.18.2.1", dstPort: 8080 });
    expect(outcomeKey(rst)).toBe("error ECONNREFUSED");
  });

  it("answers UDP from a server", async () => {
    await lab.load(ruleset(""));
    const r = await lab.probe({ from: "pod", protocol: "udp", dstIp: "198.18.2.1", dstPort: 53 });
    expect(outcomeKey(r)).toBe("answer ep1 198.18.2.1:53");
  });

  it("samples random branches", async () => {
    await lab.load(
      ruleset(
        "-A PREROUTING -d 198.19.0.10/32 -p tcp -m statistic --mode random --probability 0.5 -j DNAT --to-destination 198.18.2.1:8080\n",
      ),
    );
    const seen = await lab.sample(
      { from: "pod", protocol: "tcp", dstIp: "198.19.0.10", dstPort: 80 },
      { attempts: 40, stopWhen: (s) => s.size === 2 },
    );
    expect([...seen.keys()].sort()).toEqual(["answer ep1 198.18.2.1:8080", "answer world 198.19.0.10:80"]);
  });
});
