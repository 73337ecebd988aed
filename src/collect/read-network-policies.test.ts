import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertPolicyList } from "./network-policy-objects.ts";
import { readNetworkPolicyState } from "./read-network-policies.ts";

const BUNDLE = resolve(process.cwd(), "testdata/netpol/bundle");
const work = mkdtempSync(join(tmpdir(), "nd-netpol-read-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("readNetworkPolicyState()", () => {
  it("reads policies and namespaces in kubectl's -o json shape, each with the line of its uid", async () => {
    const { state, problems } = await readNetworkPolicyState(BUNDLE);
    expect(state.policies?.map((p) => [p.metadata.name, p.source?.line])).toEqual([
      ["default-deny-ingress", 13],
      ["allow-frontend", 31],
    ]);
    expect(state.namespaces?.map((n) => [n.metadata.name, n.metadata.labels?.team, n.source?.line])).toEqual([
      ["shop", undefined, 14],
      ["web", "web", 36],
    ]);
    const allow = state.policies![1]!;
    expect(allow.podSelector).toEqual({ matchLabels: { app: "api" } });
    expect(allow.ingress?.[0]?.from?.[0]).toEqual({
      namespaceSelector: { matchLabels: { team: "web" } },
      podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["frontend"] }] },
    });
    expect(allow.ingress?.[0]?.from?.[1]).toEqual({
      ipBlock: { cidr: "192.168.0.0/16", except: ["192.168.9.0/24"] },
    });
    expect(allow.ingress?.[0]?.ports).toEqual([
      { port: "http", protocol: "TCP" },
      { port: 9000, endPort: 9100, protocol: "TCP" },
    ]);
    expect(state.policies![0]!.ingress).toBeUndefined();
    // The bad item is skipped and reported with its field path and line.
    expect(problems.map((p) => [p.code, p.evidence[0]?.line, p.message])).toEqual([
      [
        "bundle-invalid",
        93,
        'Cannot read cluster/networkpolicies.json items[2] (shop/broken): spec.podSelector.matchExpressions[0].operator: expected In, NotIn, Exists or DoesNotExist, got "Near"',
      ],
    ]);
  });

  it("leaves both lists undefined when the bundle predates them", async () => {
    const dir = join(work, "old");
    cpSync(BUNDLE, dir, { recursive: true });
    rmSync(join(dir, "cluster"), { recursive: true });
    const { state, problems } = await readNetworkPolicyState(dir);
    expect(state).toEqual({});
    expect(problems).toEqual([]);
  });

  it("reports broken JSON with its line and the command that writes the file", async () => {
    const dir = join(work, "broken");
    cpSync(BUNDLE, dir, { recursive: true });
    writeFileSync(join(dir, "cluster", "namespaces.json"), '{\n  "items": [\n    {,\n');
    const { state, problems } = await readNetworkPolicyState(dir);
    expect(state.namespaces).toBeUndefined();
    expect(problems.find((p) => p.message.includes("namespaces.json"))?.message).toMatch(
      /^Cannot parse cluster\/namespaces.json at line 3, column \d+: .* \(write it with `kubectl get namespaces -o json`\)$/,
    );
  });
});

describe("convertPolicyList()", () => {
  it("refuses a list of another kind", () => {
    expect(() =>
      convertPolicyList(
        "NetworkPolicy",
        { kind: "PodList", items: [] },
        { file: "cluster/networkpolicies.json" },
      ),
    ).toThrow(
      "Cannot read cluster/networkpolicies.json: expected a NetworkPolicyList (kubectl get networkpolicies -A -o json)",
    );
  });
});
