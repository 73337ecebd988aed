/**
 * netpolFindings() on node evidence the real kernel tools printed (testdata/netpol/kernel, captured
 * from the kernel suite's lab) and the API objects of the same scenarios.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIpsetSave } from "../ipset/parse-ipset-save.ts";
import type { NetworkPolicy } from "../model/network-policy.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { CLIENTS, NAMESPACES, NODE, NODE_IP, SCENARIOS, SERVERS } from "../testing/netpol-scenarios.ts";
import { kubeRouterVerdict } from "./kube-router-verdict.ts";
import { netpolFindings } from "./netpol-findings.ts";
import { networkPolicyVerdict } from "./policy-verdict.ts";

const KERNEL = resolve(process.cwd(), "testdata/netpol/kernel");

function node(dir: string) {
  const file = `nodes/${NODE}/iptables-save.txt`;
  return {
    dump: parseDump(readFileSync(resolve(KERNEL, dir, "iptables-save.txt"), "utf8")),
    sets: parseIpsetSave(readFileSync(resolve(KERNEL, dir, "ipset-save.txt"), "utf8"), {
      file: `nodes/${NODE}/ipset-save.txt`,
    }),
    file,
  };
}

function findings(
  dir: string,
  policies: readonly NetworkPolicy[],
  client: string,
  server: string,
  port: number,
) {
  const n = node(dir);
  const c = CLIENTS[client]!;
  const s = SERVERS[server]!;
  const verdict = kubeRouterVerdict(
    n.dump,
    { src: parseIpv4(c.podIP!)!, dst: parseIpv4(s.podIP!)!, proto: "tcp", sport: -1, dport: port },
    { node: NODE, file: n.file, sets: n.sets, localIps: [parseIpv4(NODE_IP)!], bridged: false },
  );
  const api = networkPolicyVerdict(
    { state: { policies, namespaces: NAMESPACES } },
    { client: c, server: s, port, protocol: "TCP" },
  );
  return {
    verdict,
    api,
    findings: netpolFindings({
      query: { client: c, server: s, port, protocol: "TCP" },
      api,
      nodes: [
        { role: "client", verdict },
        { role: "server", verdict },
      ],
      service: "x/web",
    }),
  };
}

const allowFrontend = SCENARIOS[2]!.policies;

describe("netpolFindings() with kernel-printed kube-router evidence", () => {
  it("says nothing when API and node both allow, and the node names the same policy", () => {
    const r = findings("allow-frontend", allowFrontend, "a", "web", 8080);
    expect(r.findings).toEqual([]);
    expect(r.verdict.decision).toBe("allowed");
    expect(r.verdict.allowedBy.map((a) => `${a.namespace}/${a.name}`)).toEqual(["x/allow-web-from-frontend"]);
    expect(r.api.ingress.allowedBy.map((a) => a.policy.name)).toEqual(["allow-web-from-frontend"]);
  });

  it("reports netpol-denied with the isolating policies, the node's REJECT rule and the sets it read", () => {
    const r = findings("allow-frontend", allowFrontend, "b", "web", 8080);
    expect(r.findings.map((f) => [f.code, f.severity, f.node])).toEqual([["netpol-denied", "error", NODE]]);
    const f = r.findings[0]!;
    expect(f.message).toMatch(
      /^NetworkPolicy denies y\/b → x\/web:8080\/TCP: ingress of x\/web is isolated by x\/default-deny-ingress, x\/allow-web-from-frontend and no rule allows it; node "node1" rejects it at nodes\/node1\/iptables-save.txt:\d+$/,
    );
    const texts = f.evidence.map((e) => e.text);
    expect(texts.slice(0, 2)).toEqual([
      "NetworkPolicy x/default-deny-ingress",
      "NetworkPolicy x/allow-web-from-frontend",
    ]);
    expect(texts).toContain(r.verdict.deniedAt!.text);
    expect(r.verdict.deniedAt!.text).toContain(
      '"rule to REJECT traffic destined for POD name:web namespace: x"',
    );
    // The set that did not hold y/b is cited with its create line.
    expect(
      f.evidence.some(
        (e) => e.file === `nodes/${NODE}/ipset-save.txt` && e.text.startsWith("create KUBE-SRC-"),
      ),
    ).toBe(true);
  });

  it("reports netpol-node-disagrees when the node's ipset misses the client the API allows", () => {
    const r = findings("stale-ipset", SCENARIOS[9]!.policies, "a", "web", 8080);
    expect(r.api.decision).toBe("allowed");
    expect(r.verdict.decision).toBe("denied");
    expect(r.findings.map((f) => f.code)).toEqual(["netpol-node-disagrees"]);
    expect(r.findings[0]!.message).toMatch(
      /^The API allows x\/a → x\/web:8080\/TCP \(x\/allow-web-from-frontend\), but node "node1" rejects it at nodes\/node1\/iptables-save.txt:\d+: its ipsets or chains are stale/,
    );
    expect(r.findings[0]!.references).toContain("k3s-io/k3s#7446");
  });

  it("reports netpol-denied for egress on the client's node", () => {
    const r = findings("egress-db", SCENARIOS[5]!.policies, "a", "web", 8080);
    expect(r.findings.map((f) => f.code)).toEqual(["netpol-denied"]);
    expect(r.findings[0]!.message).toContain("egress of x/a is isolated by x/frontend-egress");
  });

  it("reports netpol-not-enforced when no controller's chains are on the node", () => {
    const empty = parseDump(
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
    );
    const c = CLIENTS.b!;
    const s = SERVERS.web!;
    const verdict = kubeRouterVerdict(
      empty,
      { src: parseIpv4(c.podIP!)!, dst: parseIpv4(s.podIP!)!, proto: "tcp", sport: -1, dport: 8080 },
      { node: NODE, file: "f", sets: undefined },
    );
    expect(verdict.decision).toBe("not-enforced");
    const api = networkPolicyVerdict(
      { state: { policies: allowFrontend, namespaces: NAMESPACES } },
      { client: c, server: s, port: 8080, protocol: "TCP" },
    );
    const out = netpolFindings({
      query: { client: c, server: s, port: 8080, protocol: "TCP" },
      api,
      nodes: [{ role: "server", verdict }],
    });
    expect(out.map((f) => [f.code, f.severity])).toEqual([["netpol-not-enforced", "warning"]]);
  });

  it("is undecided on the node without ipset save, naming the set and the file to collect", () => {
    const n = node("allow-frontend");
    const c = CLIENTS.a!;
    const s = SERVERS.web!;
    const v = kubeRouterVerdict(
      n.dump,
      { src: parseIpv4(c.podIP!)!, dst: parseIpv4(s.podIP!)!, proto: "tcp", sport: -1, dport: 8080 },
      { node: NODE, file: n.file, sets: undefined, localIps: [parseIpv4(NODE_IP)!], bridged: false },
    );
    expect(v.decision).toBe("undecided");
    expect(v.reason).toMatch(
      /ipset KUBE-(SRC|DST)-\w+ cannot be read: the node's `ipset save` output \(ipset-save.txt\) was not collected/,
    );
  });
});
