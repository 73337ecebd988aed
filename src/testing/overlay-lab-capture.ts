/**
 * Writes real evidence for the offline tests of src/hostnet into testdata/hostnet/ (run as root):
 *
 * ```sh
 * npx tsx src/testing/overlay-lab-capture.ts testdata/hostnet
 * ```
 * - `lab/<case>/`: bundles of some overlay lab cases (real `ip -j`, `bridge -j`, `sysctl`,
 *   `ethtool -k`, `conntrack -L` output of namespaces of this machine);
 * - `variety/`: `ip -j route show table all`, `ip -j rule show`, `ip -j neigh show` and
 *   `bridge -j fdb show` of a namespace with every route type, rule selector and neighbour state
 *   the parsers read (see VARIETY below for what was configured).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createOverlayLab } from "./overlay-lab-build.ts";
import { writeLabBundle } from "./overlay-lab-bundle.ts";
import { defaultNodes, LAB_CASES } from "./overlay-lab-cases.ts";
import { deleteNamespace, newNamespace, nsRun } from "./overlay-lab-ns.ts";

/** The commands that set up the variety namespace; the tests state their expectations from these. */
export const VARIETY: readonly (readonly string[])[] = [
  ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
  ["ip", "link", "set", "v0", "up"],
  ["ip", "link", "set", "v1", "up"],
  ["ip", "addr", "add", "198.18.5.1/24", "dev", "v0"],
  ["ip", "route", "add", "blackhole", "198.18.9.0/24"],
  ["ip", "route", "add", "unreachable", "198.18.10.0/24"],
  ["ip", "route", "add", "prohibit", "198.18.11.0/24"],
  ["ip", "route", "add", "198.18.12.0/24", "via", "198.18.5.2", "metric", "100", "table", "100"],
  ["ip", "route", "add", "198.18.12.0/24", "via", "198.18.5.3", "metric", "50", "table", "100"],
  ["ip", "route", "add", "throw", "198.18.14.0/24", "table", "100"],
  ["ip", "route", "add", "default", "via", "198.18.5.254"],
  [
    "ip",
    "route",
    "add",
    "198.18.13.0/24",
    "nexthop",
    "via",
    "198.18.5.2",
    "weight",
    "1",
    "nexthop",
    "via",
    "198.18.5.3",
    "weight",
    "2",
  ],
  ["ip", "route", "add", "198.18.14.0/24", "via", "198.18.5.4"],
  ["ip", "route", "add", "198.18.15.0/24", "via", "198.18.5.5", "dev", "v0", "onlink"],
  ["ip", "rule", "add", "from", "198.18.7.0/24", "lookup", "100", "pref", "100"],
  ["ip", "rule", "add", "not", "to", "198.18.0.0/15", "fwmark", "0x10/0xff", "lookup", "100", "pref", "101"],
  ["ip", "rule", "add", "to", "198.18.8.8", "blackhole", "pref", "102"],
  ["ip", "rule", "add", "iif", "v0", "lookup", "100", "pref", "103"],
  ["ip", "rule", "add", "from", "198.18.6.6", "unreachable", "pref", "104"],
  ["ip", "rule", "add", "from", "198.18.6.7", "ipproto", "udp", "dport", "53", "prohibit", "pref", "105"],
  ["ip", "rule", "add", "from", "198.18.6.8", "goto", "32766", "pref", "106"],
  ["ip", "neigh", "add", "198.18.5.7", "lladdr", "02:00:00:00:00:07", "dev", "v0", "nud", "permanent"],
  ["ip", "neigh", "add", "198.18.5.9", "dev", "v0", "nud", "failed"],
  ["ip", "neigh", "add", "198.18.5.10", "lladdr", "02:00:00:00:00:0A", "dev", "v0", "nud", "stale", "router"],
  [
    "ip",
    "link",
    "add",
    "vx9",
    "type",
    "vxlan",
    "id",
    "9",
    "local",
    "198.18.5.1",
    "dev",
    "v0",
    "dstport",
    "4789",
    "nolearning",
  ],
  ["bridge", "fdb", "append", "02:00:00:00:00:99", "dev", "vx9", "dst", "198.18.5.99", "self", "permanent"],
  ["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx9", "dst", "198.18.5.98", "self", "permanent"],
];

function captureVariety(out: string): void {
  const ns = newNamespace("cap");
  try {
    for (const c of VARIETY) nsRun(ns, c);
    mkdirSync(out, { recursive: true });
    for (const [file, cmd] of [
      ["ip-route.json", ["ip", "-j", "route", "show", "table", "all"]],
      ["ip-rule.json", ["ip", "-j", "rule", "show"]],
      ["ip-neigh.json", ["ip", "-j", "neigh", "show"]],
      ["bridge-fdb.json", ["bridge", "-j", "fdb", "show"]],
      ["ip-link.json", ["ip", "-j", "-d", "link", "show"]],
      ["ip-addr.json", ["ip", "-j", "addr", "show"]],
    ] as const) {
      writeFileSync(join(out, file), nsRun(ns, cmd));
    }
  } finally {
    deleteNamespace(ns);
  }
}

async function captureLab(out: string, name: string): Promise<void> {
  const c = LAB_CASES.find((x) => x.name === name)!;
  const lab = await createOverlayLab({ area: "cap", nodes: c.nodes ?? defaultNodes() });
  try {
    await c.breakIt?.(lab);
    for (const p of c.probes) await lab.probe({ ...p, timeoutMs: p.timeoutMs ?? 1500 });
    await c.change?.(lab);
    for (const p of c.after ?? []) await lab.probe({ ...p, timeoutMs: p.timeoutMs ?? 1500 });
    rmSync(join(out, name), { recursive: true, force: true });
    await writeLabBundle(lab, join(out, name), { services: c.services ?? [] });
  } finally {
    await lab.destroy();
  }
}

const target = process.argv[2];
if (target !== undefined) {
  captureVariety(join(target, "variety"));
  for (const name of ["healthy", "vtep-mac-changed", "stale-conntrack-dns", "asymmetric-rp-strict"]) {
    await captureLab(join(target, "lab"), name);
  }
  console.log(`wrote ${target}/variety and ${target}/lab`);
}
