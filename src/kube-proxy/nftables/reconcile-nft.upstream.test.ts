/**
 * reconcileKubeProxyNft() judged by upstream kube-proxy's own nftables unit test: the rules
 * TestOverallNFTablesRules expects (verbatim from ../shared/fixtures/kube-proxy/) are loaded with the
 * real nft into a throw-away namespace and dumped with `nft -j` / `nft -a`, the Services and
 * EndpointSlices that test builds come from testdata/nft/kube-proxy-upstream/ (transcribed by hand).
 * The healthy pair gives no finding; each single change gives exactly its finding.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readBundle } from "../../collect/read-bundle.ts";
import type { ClusterState } from "../../model/cluster.ts";
import { parseNftRuleset } from "../../nft/parse-nft-json.ts";
import { netnsUnavailable, skipBecause } from "../../testing/capabilities.ts";
import { nftRoundTrip, nftUnavailable } from "../../testing/nft-lab.ts";
import { KUBE_PROXY_FIXTURES, skipWithoutSharedFixtures } from "../../testing/shared-fixtures.ts";
import { expectedServicePorts } from "../expected-state.ts";
import { type NftReconcileOptions, reconcileKubeProxyNft } from "./reconcile-nft.ts";

const FIXTURE = "kube-proxy-nftables-v1.31to1.35-TestOverallNFTablesRules.nft.txt";
const BUNDLE = resolve(process.cwd(), "testdata/nft/kube-proxy-upstream");
const skip =
  skipWithoutSharedFixtures("kube-proxy nftables reconciliation against the upstream fixture") ||
  skipBecause(
    netnsUnavailable() ?? nftUnavailable(),
    "kube-proxy nftables reconciliation (needs the real nft)",
  );

const OPTS: NftReconcileOptions = {
  node: "test-node",
  files: { json: "nodes/test-node/nft-ruleset.json", text: "nodes/test-node/nft-ruleset.txt" },
};

/** The fixture is knftables transaction text: declarations first, so nft can load it. */
function loadable(text: string): string {
  const lines = text.split("\n");
  const decl = lines.filter((l) => /^add (table|set|map|chain) /.test(l));
  return [...decl, ...lines.filter((l) => !decl.includes(l))].join("\n");
}

function reconcile(cluster: ClusterState, rules: string, opts: Partial<NftReconcileOptions> = {}) {
  const dump = nftRoundTrip(rules, "kpnft");
  const ruleset = parseNftRuleset(dump.json, { text: dump.text });
  return reconcileKubeProxyNft(expectedServicePorts(cluster), ruleset, { ...OPTS, ...opts });
}

const codes = (r: ReturnType<typeof reconcile>) =>
  r.findings.map((f) => `${f.code} ${f.severity} ${f.service ?? ""}`.trim());

describe.skipIf(skip)("reconcileKubeProxyNft() on upstream TestOverallNFTablesRules", () => {
  let cluster: ClusterState;
  let rules: string;
  beforeAll(async () => {
    cluster = (await readBundle(BUNDLE)).cluster;
    rules = loadable(readFileSync(join(KUBE_PROXY_FIXTURES, FIXTURE), "utf8"));
  });

  it("finds nothing wrong with the rules kube-proxy wrote for these objects", () => {
    const r = reconcile(cluster, rules);
    expect(r.present).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it("a flushed service chain is delayed cleanup, not a leftover", () => {
    const r = reconcile(cluster, `${rules}\nadd chain ip kube-proxy service-ABCDEFGH-ns9/gone/tcp/p80\n`);
    expect(r.findings).toEqual([]);
  });

  it("stale endpoint: an endpoint gone from the slice is still a DNAT target", () => {
    const slices = cluster.endpointSlices.map((s) =>
      s.serviceName === "svc4"
        ? { ...s, endpoints: s.endpoints.filter((e) => e.addresses[0] !== "10.180.0.4") }
        : s,
    );
    const r = reconcile({ ...cluster, endpointSlices: slices }, rules);
    expect(codes(r)).toEqual(["endpoint-stale error ns4/svc4"]);
    const f = r.findings[0]!;
    expect(f.message).toContain("10.180.0.4:80");
    expect(f.evidence.map((e) => e.handle !== undefined || e.line !== undefined)).toEqual([true, true, true]);
    expect(f.evidence.at(-1)!.text).toMatch(/dnat to 10\.180\.0\.4:80 # handle \d+$/);
  });

  it("missing Service: the maps still dispatch a Service the API no longer has", () => {
    const r = reconcile(
      {
        ...cluster,
        services: cluster.services.filter((s) => s.metadata.name !== "svc1"),
        endpointSlices: cluster.endpointSlices.filter((s) => s.serviceName !== "svc1"),
      },
      rules,
    );
    expect(codes(r)).toEqual(["nft-service-stale warning ns1/svc1"]);
    expect(r.findings[0]!.message).toContain("service-ips 172.30.0.41 . tcp . 80");
  });

  it("numgen mod N not equal to the verdict map: some connections meet no endpoint", () => {
    const r = reconcile(cluster, rules.replace("numgen random mod 2 vmap", "numgen random mod 3 vmap"));
    expect(codes(r)).toEqual(["nft-numgen-mismatch error ns4/svc4"]);
    expect(r.findings[0]!.message).toContain("numgen random mod 3 but a verdict map of 2 entries");
  });

  it("no-endpoint entry while endpoints exist: the ClusterIP is rejected", () => {
    const slices = [
      ...cluster.endpointSlices,
      {
        ...cluster.endpointSlices[0]!,
        metadata: { name: "svc6-1", namespace: "ns6" },
        serviceName: "svc6",
        endpoints: [{ addresses: ["10.180.0.6"], conditions: { ready: true } }],
      },
    ];
    const r = reconcile({ ...cluster, endpointSlices: slices }, rules);
    expect(codes(r)).toEqual(["service-rejected error ns6/svc6"]);
    expect(r.findings[0]!.evidence[0]!.text).toContain("172.30.0.46 . tcp . 80");
  });

  it("missing table: kube-proxy says nftables but the table is absent", () => {
    const mode = {
      mode: "nftables" as const,
      evidence: [{ file: "nodes/test-node/kube-proxy-mode.txt", line: 1, text: "nftables" }],
    };
    const r = reconcile(cluster, "table ip other {\n}\n", { mode });
    expect(r.present).toBe(false);
    expect(codes(r)).toEqual(["nft-table-missing error"]);
    expect(reconcile(cluster, "table ip other {\n}\n").findings).toEqual([]);
  });

  it("service chains with rules that nothing accounts for are leftovers: info unused, warning in use", () => {
    const ep = "endpoint-ABCDEFGH-ns9/gone/tcp/p80__10.9.9.9/80";
    const svc = "service-ABCDEFGH-ns9/gone/tcp/p80";
    const lone = `add chain ip kube-proxy ${ep}\nadd rule ip kube-proxy ${ep} meta l4proto tcp dnat to 10.9.9.9:80\n`;
    expect(codes(reconcile(cluster, `${rules}\n${lone}`))).toEqual(["chain-leftover info"]);
    const used = `${lone}add chain ip kube-proxy ${svc}\nadd rule ip kube-proxy ${svc} goto ${ep}\n`;
    const r = reconcile(cluster, `${rules}\n${used}`);
    expect(codes(r)).toEqual(["chain-leftover warning"]);
    expect(r.findings[0]!.message).toContain(
      "2 kube-proxy chains that no current Service or endpoint accounts for, 1 still jumped to",
    );
  });
});
