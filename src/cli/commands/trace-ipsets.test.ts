import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { skipBecause } from "../../testing/capabilities.ts";
import { writeNetpolDemoBundle } from "../../testing/netpol-demo-bundle.ts";
import { ipsetNetnsUnavailable } from "../../testing/netpol-ipset-netns.ts";
import { runCliSource } from "../../testing/run-cli-source.ts";

const DIR = "testdata/netpol/kernel/allow-frontend";
const tmp = mkdtempSync(join(tmpdir(), "nd-trace-ipsets-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const netdoctor = (args: readonly string[]) => runCliSource("trace", args);

const dump = ["--dump", `${DIR}/iptables-save.txt`, "--local-ip", "198.18.0.1", "--bridged", "no"];
const web = ["--dst", "198.18.2.1:8080"];

describe("netdoctor trace --ipsets", () => {
  it("forwards x/a (exit 0) through the policy's MARK rule, read from the rule comment", () => {
    const r = netdoctor([...dump, "--ipsets", `${DIR}/ipset-save.txt`, "--src", "198.18.1.2", ...web]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("forwarded to 198.18.2.1:8080");
    expect(r.stdout).toMatch(/selected by policy name allow-web-from-frontend namespace x.* -j MARK/);
  });

  it("rejects y/b (exit 1) at the web pod's REJECT rule", () => {
    const r = netdoctor([...dump, "--ipsets", `${DIR}/ipset-save.txt`, "--src", "198.18.1.3", ...web]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/REJECTed by line \d+ with icmp-port-unreachable/);
    expect(r.stdout).toContain('"rule to REJECT traffic destined for POD name:web namespace: x"');
  });

  it("is undecided (exit 3) without the ipsets, saying what to collect", () => {
    const r = netdoctor([...dump, "--src", "198.18.1.2", ...web]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("ipset-save.txt) was not collected");
  });

  it("refuses a --ipsets file that does not exist, exit 2", () => {
    const r = netdoctor([...dump, "--ipsets", join(tmp, "nope.txt"), "--src", "198.18.1.2", ...web]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Cannot read --ipsets");
  });

  const noNetns = skipBecause(ipsetNetnsUnavailable(), "trace --bundle with the node's ipset-save.txt");
  it.skipIf(noNetns)(
    "with --bundle, reads nodes/NODE/ipset-save.txt: master2 rejects the gateway",
    async () => {
      const bundle = join(tmp, "deny");
      await writeNetpolDemoBundle(bundle, "deny");
      const r = netdoctor([
        "--bundle",
        bundle,
        "--node",
        "master2",
        "--src",
        "10.42.2.31",
        "--dst",
        "10.42.1.23:8848",
        "--bridged",
        "no",
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        '"rule to REJECT traffic destined for POD name:eopx-register-0 namespace: eopx"',
      );
    },
  );
});
