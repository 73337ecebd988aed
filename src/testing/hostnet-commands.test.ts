/**
 * The host network commands of src/collect/node-commands.ts, run for real in a throw-away namespace
 * set up with known devices, routes, rules, neighbours, FDB entries, sysctls and conntrack entries:
 * what src/hostnet parses from their output must be what was configured.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conntrackScript, NODE_COMMANDS, outputFile } from "../collect/node-commands.ts";
import { parseConntrack } from "../hostnet/conntrack.ts";
import { type HostEvidence, parseHostEvidence } from "../hostnet/host-evidence.ts";
import { effectiveRpFilter, sysctlNumber } from "../hostnet/sysctl.ts";
import { commandUnavailable, netnsUnavailable, skipBecause } from "./capabilities.ts";
import { VARIETY } from "./overlay-lab-capture.ts";
import {
  deleteNamespace,
  newNamespace,
  nsRun,
  nsTry,
  overlayUnavailable,
  setSysctl,
} from "./overlay-lab-ns.ts";

const skip = skipBecause(
  netnsUnavailable() ??
    overlayUnavailable() ??
    commandUnavailable("bridge") ??
    commandUnavailable("ethtool") ??
    commandUnavailable("conntrack") ??
    commandUnavailable("sysctl"),
  "host network command tests",
);

/** Conntrack entries inserted with `conntrack -I`: 3 UDP (one DNATed to a pod), 2 TCP. */
const ENTRIES: readonly (readonly string[])[] = [
  [
    "-p",
    "udp",
    "-s",
    "198.18.5.1",
    "-d",
    "198.19.0.10",
    "--sport",
    "40053",
    "--dport",
    "53",
    "--reply-src",
    "198.18.3.10",
    "--reply-port-src",
    "53",
    "--reply-dst",
    "198.18.5.1",
    "--reply-port-dst",
    "40053",
  ],
  ["-p", "udp", "-s", "198.18.5.1", "-d", "198.18.5.2", "--sport", "1000", "--dport", "53"],
  ["-p", "udp", "-s", "198.18.5.1", "-d", "198.18.5.3", "--sport", "1001", "--dport", "123"],
  [
    "-p",
    "tcp",
    "-s",
    "198.18.5.1",
    "-d",
    "198.18.5.2",
    "--sport",
    "2000",
    "--dport",
    "80",
    "--state",
    "ESTABLISHED",
  ],
  [
    "-p",
    "tcp",
    "-s",
    "198.18.5.1",
    "-d",
    "198.18.5.3",
    "--sport",
    "2001",
    "--dport",
    "443",
    "--state",
    "ESTABLISHED",
  ],
];

describe.skipIf(skip)("host network commands in a namespace", () => {
  let ns = "";
  let host: HostEvidence;
  const failures: string[] = [];

  beforeAll(() => {
    ns = newNamespace("hnc");
    for (const c of VARIETY) nsRun(ns, c);
    nsRun(ns, [
      "ip",
      "link",
      "add",
      "flannel.1",
      "type",
      "vxlan",
      "id",
      "1",
      "local",
      "198.18.5.1",
      "dev",
      "v0",
      "dstport",
      "8472",
      "nolearning",
    ]);
    nsRun(ns, ["ip", "link", "set", "flannel.1", "mtu", "1400", "up"]);
    nsRun(ns, [
      "bridge",
      "fdb",
      "append",
      "02:00:00:00:00:42",
      "dev",
      "flannel.1",
      "dst",
      "198.18.5.42",
      "self",
      "permanent",
    ]);
    setSysctl(ns, "net.ipv4.ip_forward", 1);
    setSysctl(ns, "net.ipv4.conf.v0.rp_filter", 2);
    setSysctl(ns, "net.ipv4.conf.flannel/1.rp_filter", 1);
    for (const e of ENTRIES) nsRun(ns, ["conntrack", "-I", ...e, "--timeout", "300"]);
    const files: Record<string, string> = {};
    for (const c of NODE_COMMANDS) {
      if (
        !c.stem.startsWith("ip-") &&
        !["bridge-fdb", "sysctl", "ethtool-flannel", "conntrack", "lsmod"].includes(c.stem)
      )
        continue;
      const r = nsTry(ns, c.argv);
      if (r.exit === 0) files[outputFile(c)] = r.stdout;
      else failures.push(`${c.stem}: exit ${r.exit}: ${r.stderr.trim()}`);
    }
    host = parseHostEvidence(files, { node: "n", dir: "nodes/n" });
  });
  afterAll(() => {
    if (ns !== "") deleteNamespace(ns);
  });

  it("runs every host network command (lsmod may be absent: this machine has no /proc/modules)", () => {
    expect(failures.filter((f) => !f.startsWith("lsmod:"))).toEqual([]);
    expect(host.warnings).toEqual([]);
    expect(host.missing.filter((p) => p !== "lsmod" && p !== "subnetEnv")).toEqual([]);
  });

  it("parses addresses, links and the VXLAN device as configured", () => {
    const v0 = host.addr!.interfaces.find((i) => i.ifname === "v0")!;
    expect(v0.addresses.filter((a) => a.family === "inet")).toEqual([
      { family: "inet", local: "198.18.5.1", prefixlen: 24, scope: "global" },
    ]);
    const f = host.link!.links.find((l) => l.ifname === "flannel.1")!;
    expect(f).toMatchObject({
      kind: "vxlan",
      mtu: 1400,
      vxlan: { id: 1, local: "198.18.5.1", link: "v0", port: 8472, learning: false },
    });
    expect(host.link!.links.find((l) => l.ifname === "vx9")?.vxlan).toMatchObject({ id: 9, port: 4789 });
  });

  it("parses routes, rules, neighbours and FDB entries as configured", () => {
    const main = (dst: string) => host.route!.routes.find((r) => r.dst === dst && r.table === "main");
    expect(main("198.18.9.0/24")?.type).toBe("blackhole");
    expect(main("198.18.15.0/24")).toMatchObject({ gateway: "198.18.5.5", flags: ["onlink"] });
    expect(host.rule!.rules.map((r) => r.priority)).toEqual([
      0, 100, 101, 102, 103, 104, 105, 106, 32766, 32767,
    ]);
    expect(host.neigh!.neighbors.find((n) => n.dst === "198.18.5.7")).toMatchObject({
      lladdr: "02:00:00:00:00:07",
      state: ["PERMANENT"],
    });
    expect(
      host.fdb!.entries.find((e) => e.ifname === "flannel.1" && e.mac === "02:00:00:00:00:42")?.dst,
    ).toBe("198.18.5.42");
  });

  it("keeps only the sysctls the checks read, with the values set", () => {
    const s = host.sysctl!;
    expect(sysctlNumber(s, "net.ipv4.ip_forward")?.value).toBe(1);
    expect(effectiveRpFilter(s, "v0")?.value).toBe(2);
    expect(effectiveRpFilter(s, "flannel.1")?.value).toBe(1);
    expect(
      [...s.values.keys()].every((k) =>
        /^net\.(ipv4\.ip_forward|ipv4\.conf\..+\.(rp_filter|forwarding)|bridge\.bridge-nf-call-iptables)$/.test(
          k,
        ),
      ),
    ).toBe(true);
  });

  it("reads flannel.1's offloads", () => {
    expect(host.ethtool?.ifname).toBe("flannel.1");
    expect(host.ethtool?.features.has("tx-checksum-ip-generic")).toBe(true);
  });

  it("lists conntrack entries UDP first, with the reply tuple of a DNATed flow", () => {
    const t = host.conntrack!;
    expect(t.truncated).toBeUndefined();
    expect(t.entries.map((e) => e.protocol)).toEqual(["udp", "udp", "udp", "tcp", "tcp"]);
    expect(t.entries.find((e) => e.original.dport === 53 && e.original.dst === "198.19.0.10")?.reply).toEqual(
      {
        src: "198.18.3.10",
        dst: "198.18.5.1",
        sport: 53,
        dport: 40053,
      },
    );
  });

  it("cuts the conntrack listing at the limit, UDP kept, and says how many were left out", () => {
    const r = nsTry(ns, ["sh", "-c", conntrackScript(3)]);
    expect(r.exit).toBe(0);
    const t = parseConntrack(r.stdout, { file: "c" });
    expect(t.entries.map((e) => e.protocol)).toEqual(["udp", "udp", "udp"]);
    expect(t.truncated).toMatchObject({ omitted: 2, limit: 3 });
  });
});
