import { describe, expect, it } from "vitest";
import { parseHostEvidence } from "./host-evidence.ts";

describe("parseHostEvidence()", () => {
  it("parses the files it has, lists the parts it lacks, and keeps going past one that does not parse", () => {
    const h = parseHostEvidence(
      {
        "ip-route.json": '[{"dst":"10.42.1.0/24","dev":"cni0","flags":[]}]',
        "ip-neigh.json": '[{"dst":"10.42.2.0","dev":"flannel.1",}]',
        "sysctl.txt": "net.ipv4.ip_forward = 1\n",
      },
      { node: "n", dir: "nodes/n" },
    );
    expect(h.route?.routes).toHaveLength(1);
    expect(h.sysctl?.values.size).toBe(1);
    expect(h.neigh).toBeUndefined();
    expect(h.missing).toEqual([
      "addr",
      "link",
      "rule",
      "neigh",
      "fdb",
      "lsmod",
      "subnetEnv",
      "ethtool",
      "conntrack",
    ]);
    expect(h.warnings).toMatchObject([
      {
        file: "nodes/n/ip-neigh.json",
        line: 1,
        reason: expect.stringMatching(/^Cannot parse nodes\/n\/ip-neigh\.json at line 1, column 39: /),
      },
    ]);
    expect(h.files.fdb).toBe("nodes/n/bridge-fdb.json");
  });
});
