/**
 * reconcileKubeProxyNft() on the lab cluster (testdata/nft/kube-proxy-lab/: API objects, and the dump
 * nft printed for its hand-written kube-proxy-shaped ruleset, testdata/nft/kube-proxy-lab.nft). The
 * kernel suite runs connections through the same ruleset; reconcile-nft.upstream.test.ts judges the
 * reconciler by upstream kube-proxy's own test.
 */
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readBundle } from "../../collect/read-bundle.ts";
import type { ClusterState } from "../../model/cluster.ts";
import { parseNftRuleset } from "../../nft/parse-nft-json.ts";
import { storedDump } from "../../testing/nft-testdata.ts";
import { expectedServicePorts } from "../expected-state.ts";
import { reconcileKubeProxyNft } from "./reconcile-nft.ts";

const BUNDLE = resolve(process.cwd(), "testdata/nft/kube-proxy-lab");
const dump = storedDump("kube-proxy-lab.nft");
const FILES = { json: "nodes/lab-node/nft-ruleset.json", text: "nodes/lab-node/nft-ruleset.txt" };

/** `text` null: only the JSON dump was collected. */
function run(cluster: ClusterState, json = dump.json, text: string | null = dump.text) {
  const ruleset = parseNftRuleset(json, text === null ? {} : { text });
  return reconcileKubeProxyNft(expectedServicePorts(cluster), ruleset, {
    node: "lab-node",
    files: text === null ? { json: FILES.json } : FILES,
    ownerOfIp: (ip) => (ip === "198.18.2.2" ? "pod ns2/web-2" : undefined),
  });
}

const codes = (r: ReturnType<typeof run>) =>
  r.findings.map((f) => `${f.code} ${f.severity} ${f.service ?? ""}`.trim());

describe("reconcileKubeProxyNft()", () => {
  let cluster: ClusterState;
  beforeAll(async () => {
    cluster = (await readBundle(BUNDLE)).cluster;
  });

  it("finds nothing wrong when the table matches the API", () => {
    expect(run(cluster)).toEqual({ present: true, findings: [] });
  });

  it("reports a stale endpoint with the element, verdict-map and DNAT lines as evidence", () => {
    const slices = cluster.endpointSlices.map((s) =>
      s.serviceName === "svc2"
        ? { ...s, endpoints: s.endpoints.filter((e) => e.addresses[0] !== "198.18.2.2") }
        : s,
    );
    const r = run({ ...cluster, endpointSlices: slices });
    expect(codes(r)).toEqual(["endpoint-stale error ns2/svc2"]);
    const f = r.findings[0]!;
    expect(f.message).toBe(
      'Node "lab-node" sends ns2/svc2:p80 (198.19.100.2:80/tcp) to 198.18.2.2:80, which is not a ready endpoint of ns2/svc2 (ready: 198.18.2.1:80, 198.18.2.3:80); 198.18.2.2 now belongs to pod ns2/web-2',
    );
    const lines = dump.text.split("\n");
    for (const e of f.evidence) expect(lines[e.line! - 1]!.trim()).toBe(e.text);
    expect(f.evidence.map((e) => e.handle)).toEqual([undefined, expect.any(Number), expect.any(Number)]);
    expect(f.evidence[0]!.text).toContain("198.19.100.2 . tcp . 80 : goto service-42NFTM6N-ns2/svc2/tcp/p80");
  });

  it("reports a ready endpoint the node never balances to", () => {
    const slices = cluster.endpointSlices.map((s) =>
      s.serviceName === "svc1"
        ? { ...s, endpoints: [...s.endpoints, { addresses: ["198.18.2.9"], conditions: { ready: true } }] }
        : s,
    );
    const r = run({ ...cluster, endpointSlices: slices });
    expect(codes(r)).toEqual(["endpoint-missing error ns1/svc1"]);
    expect(r.findings[0]!.message).toContain("ready endpoint 198.18.2.9:8080");
  });

  it("reports a deleted Service whose elements and chains remain, once", () => {
    const r = run({
      ...cluster,
      services: cluster.services.filter((s) => s.metadata.name !== "svc4"),
      endpointSlices: cluster.endpointSlices.filter((s) => s.serviceName !== "svc4"),
    });
    expect(codes(r)).toEqual(["nft-service-stale warning ns4/svc4"]);
    expect(r.findings[0]!.message).toContain(
      "service-ips 198.19.100.4 . tcp . 80, service-ips 198.19.100.60 . tcp . 80, service-nodeports tcp . 30080, firewall-ips 198.19.100.60 . tcp . 80, cluster-ips 198.19.100.4",
    );
  });

  it("says the ClusterIP is rejected when endpoints appeared but the node still has the no-endpoint entry", () => {
    const slices = [
      ...cluster.endpointSlices,
      { ...cluster.endpointSlices[0]!, metadata: { name: "svc3-a", namespace: "ns3" }, serviceName: "svc3" },
    ];
    const r = run({ ...cluster, endpointSlices: slices });
    expect(codes(r)).toEqual([
      "service-rejected error ns3/svc3",
      "service-rules-missing warning ns3/svc3",
      "service-rejected error ns3/svc3",
    ]);
    expect(r.findings.map((f) => f.message)).toEqual([
      'Node "lab-node" rejects ns3/svc3:p80 (198.19.100.3:80/tcp) as having no endpoints, but the API lists ready endpoints (198.18.2.1:8080): clients on this node get "Connection refused"',
      'Node "lab-node" lacks the external entries of ns3/svc3:p80: NodePort tcp . 30081',
      'Node "lab-node" rejects ns3/svc3:p80 NodePort tcp . 30081 as having no endpoints, but the API lists ready endpoints (198.18.2.1:8080): clients on this node get "Connection refused"',
    ]);
  });

  it("reports numgen mod N that leaves verdict-map holes", () => {
    const json = dump.json.replace('"mode": "random", "mod": 3', '"mode": "random", "mod": 4');
    expect(json).not.toBe(dump.json);
    const r = run(cluster, json);
    expect(codes(r)).toEqual(["nft-numgen-mismatch error ns2/svc2"]);
    expect(r.findings[0]!.message).toContain(
      "numgen random mod 4 but a verdict map of 3 entries: 1 in 4 new connections meet no endpoint",
    );
  });

  it("points at the JSON file and handles when there is no text dump", () => {
    const slices = cluster.endpointSlices.map((s) =>
      s.serviceName === "svc2"
        ? { ...s, endpoints: s.endpoints.filter((e) => e.addresses[0] !== "198.18.2.2") }
        : s,
    );
    const f = run({ ...cluster, endpointSlices: slices }, dump.json, null).findings[0]!;
    expect(f.evidence.every((e) => e.file === FILES.json && e.line === undefined)).toBe(true);
    expect(f.evidence[2]!.text).toMatch(
      /^rule ip kube-proxy endpoint-5BUTKEBR-ns2\/svc2\/tcp\/p80__198\.18\.2\.2\/80 handle \d+$/,
    );
  });

  it("without the table says nothing unless kube-proxy reports nftables mode", () => {
    const empty = JSON.stringify({ nftables: [{ metainfo: { version: "1.0.6", json_schema_version: 1 } }] });
    expect(run(cluster, empty, null)).toEqual({ present: false, findings: [] });
  });
});
