import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseHostEvidence } from "../hostnet/host-evidence.ts";
import { buildBundle } from "./build-bundle.ts";
import { incidentBundleSpec } from "./incident.ts";

// biome-ignore lint/suspicious/noExplicitAny: raw `ip -j` / kubectl JSON, read the way a person would
type Json = Record<string, any>;

const files = buildBundle(incidentBundleSpec());
const json = (path: string): Json[] => JSON.parse(files.get(path)!);
const apiNodes = (JSON.parse(files.get("cluster/nodes.json")!) as Json).items as Json[];
const LAB = "testdata/hostnet/lab/healthy/nodes/node-a";
const lab = (name: string): Json[] => JSON.parse(readFileSync(`${LAB}/${name}`, "utf8"));

/** 10.42.1.0/24 → [first, last] as numbers, by hand. */
function range(cidr: string): [number, number] {
  const [ip, len] = cidr.split("/");
  const n = ip!.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  return [n, n + 2 ** (32 - Number(len)) - 1];
}
const num = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);

const flannel = (n: Json) => ({
  name: n.metadata.name as string,
  podCIDR: n.spec.podCIDR as string,
  publicIp: n.metadata.annotations["flannel.alpha.coreos.com/public-ip"] as string,
  vtepMac: JSON.parse(n.metadata.annotations["flannel.alpha.coreos.com/backend-data"]).VtepMAC as string,
});

describe("hostFiles() in the demo bundle", () => {
  it("puts every pod IP in its node's pod CIDR", () => {
    const pods = (JSON.parse(files.get("cluster/pods.json")!) as Json).items as Json[];
    expect(pods.length).toBeGreaterThan(10);
    for (const p of pods) {
      const node = apiNodes.find((n) => n.metadata.name === p.spec.nodeName)!;
      const [lo, hi] = range(node.spec.podCIDR);
      const ip = num(p.status.podIP);
      expect(ip > lo && ip < hi, `${p.metadata.name} ${p.status.podIP} in ${node.spec.podCIDR}`).toBe(true);
    }
  });

  it("writes every host file of every node, parsed without a warning", () => {
    for (const n of apiNodes.map(flannel)) {
      const dir = `nodes/${n.name}`;
      const texts = Object.fromEntries(
        [...files].filter(([k]) => k.startsWith(`${dir}/`)).map(([k, v]) => [k.slice(dir.length + 1), v]),
      );
      const host = parseHostEvidence(texts, { node: n.name, dir });
      expect(host.missing, n.name).toEqual([]);
      expect(host.warnings, n.name).toEqual([]);
    }
  });

  it("routes, resolves and encapsulates to every peer as flannel's annotations say", () => {
    const nodes = apiNodes.map(flannel);
    expect(nodes.map((n) => n.name)).toEqual(["master1", "master2", "prod-agent1"]);
    for (const n of nodes) {
      const dir = `nodes/${n.name}`;
      const links = json(`${dir}/ip-link.json`);
      const vtep = links.find((l) => l.ifname === "flannel.1")!;
      expect(vtep.address).toBe(n.vtepMac);
      expect(vtep.linkinfo.info_data).toMatchObject({ id: 1, port: 8472, local: n.publicIp, link: "eth0" });
      expect(vtep.mtu).toBe(links.find((l) => l.ifname === "eth0")!.mtu - 50);
      const cni = json(`${dir}/ip-addr.json`).find((l) => l.ifname === "cni0")!;
      expect(num(cni.addr_info[0].local)).toBe(range(n.podCIDR)[0] + 1);
      expect(files.get(`${dir}/flannel-subnet.env`)).toContain(`FLANNEL_MTU=${vtep.mtu}\n`);
      for (const peer of nodes.filter((p) => p !== n)) {
        const net = peer.podCIDR.split("/")[0];
        expect(json(`${dir}/ip-route.json`)).toContainEqual({
          dst: peer.podCIDR,
          gateway: net,
          dev: "flannel.1",
          flags: ["onlink"],
        });
        expect(json(`${dir}/ip-neigh.json`)).toContainEqual({
          dst: net,
          dev: "flannel.1",
          lladdr: peer.vtepMac,
          state: ["PERMANENT"],
        });
        expect(json(`${dir}/bridge-fdb.json`)).toContainEqual({
          mac: peer.vtepMac,
          ifname: "flannel.1",
          dst: peer.publicIp,
          flags: ["self"],
          state: "permanent",
        });
      }
      const sysctl = files.get(`${dir}/sysctl.txt`)!;
      expect(sysctl).toContain("net.ipv4.ip_forward = 1\n");
      expect(sysctl).toContain("net.bridge.bridge-nf-call-iptables = 1\n");
      expect(sysctl).not.toMatch(/rp_filter = 1$/m);
      expect(files.get(`${dir}/lsmod.txt`)).toMatch(/^br_netfilter /m);
      expect(files.get(`${dir}/lsmod.txt`)).toMatch(/^vxlan /m);
    }
  });

  it("prints the kernel lab's real shapes: the same keys in the same order per kind of entry", () => {
    const keys = (x: Json | undefined) => Object.keys(x ?? {});
    const peerRoute = (r: Json[]) => r.find((x) => x.dev === "flannel.1" && x.gateway !== undefined);
    const peerFdb = (r: Json[]) => r.find((x) => x.ifname === "flannel.1" && x.dst !== undefined);
    const vxlanNeigh = (r: Json[]) => r.find((x) => x.dev === "flannel.1");
    const local = (r: Json[]) => r.find((x) => x.type === "local" && x.dev === "cni0");
    const d = "nodes/master1";
    expect(keys(peerRoute(json(`${d}/ip-route.json`)))).toEqual(keys(peerRoute(lab("ip-route.json"))));
    expect(keys(local(json(`${d}/ip-route.json`)))).toEqual(keys(local(lab("ip-route.json"))));
    expect(keys(peerFdb(json(`${d}/bridge-fdb.json`)))).toEqual(keys(peerFdb(lab("bridge-fdb.json"))));
    expect(keys(vxlanNeigh(json(`${d}/ip-neigh.json`)))).toEqual(keys(vxlanNeigh(lab("ip-neigh.json"))));
    expect(json(`${d}/ip-rule.json`)).toEqual(lab("ip-rule.json"));
    const info = (f: string, r: Json[]) => keys(r.find((x) => x.ifname === "flannel.1")?.[f]?.[0]);
    expect(info("addr_info", json(`${d}/ip-addr.json`))).toEqual(info("addr_info", lab("ip-addr.json")));
    const vx = (r: Json[]) => keys(r.find((x) => x.ifname === "flannel.1")?.linkinfo.info_data);
    expect(vx(json(`${d}/ip-link.json`))).toEqual(vx(lab("ip-link.json")));
  });
});
