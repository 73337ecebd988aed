import { describe, expect, it } from "vitest";
import { fixtureText } from "../testing/hostnet-fixtures.ts";
import { effectiveRpFilter, interfaceKey, parseSysctl, sysctlNumber } from "./sysctl.ts";

describe("parseSysctl()", () => {
  it("reads the collector's filtered `sysctl -a` output, interface names with a dot printed with /", () => {
    const t = parseSysctl(fixtureText("lab/healthy/nodes/node-a/sysctl.txt"), { file: "s" });
    expect(t.warnings).toEqual([]);
    expect(sysctlNumber(t, "net.ipv4.ip_forward")?.value).toBe(1);
    expect(interfaceKey("rp_filter", "flannel.1")).toBe("net.ipv4.conf.flannel/1.rp_filter");
    expect(sysctlNumber(t, interfaceKey("rp_filter", "flannel.1"))?.value).toBe(0);
    expect(sysctlNumber(t, "net.bridge.bridge-nf-call-iptables")?.value).toBe(1);
    // The collector keeps only these keys (src/collect/node-commands.ts).
    for (const k of t.values.keys()) {
      expect(k).toMatch(
        /^net\.(ipv4\.ip_forward|ipv4\.conf\.[^.]+\.(rp_filter|forwarding)|bridge\.bridge-nf-call-iptables)$/,
      );
    }
  });

  it("uses the larger of conf.all and conf.IF as the kernel does for rp_filter", () => {
    const t = parseSysctl(
      "net.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.eth0.rp_filter = 1\nnet.ipv4.conf.eth1.rp_filter = 0\n",
      { file: "s" },
    );
    expect(effectiveRpFilter(t, "eth0")?.value).toBe(2);
    expect(effectiveRpFilter(t, "eth1")).toMatchObject({ value: 2, evidence: [{ line: 1 }] });
    expect(effectiveRpFilter(t, "eth9")).toBeUndefined();
  });

  it("warns about lines that are not key = value", () => {
    const t = parseSysctl("sysctl: permission denied on key 'x'\nnet.ipv4.ip_forward = 1\n", { file: "s" });
    expect(t.warnings).toMatchObject([{ line: 1, reason: "not a key = value line" }]);
    expect(t.values.size).toBe(1);
  });
});
