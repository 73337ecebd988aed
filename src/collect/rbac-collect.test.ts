import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { FakeKubeApi } from "../testing/fake-kube-api.ts";
import { deleteCollectorPods } from "./cleanup-pods.ts";
import { collectBundle } from "./collect-bundle.ts";
import { KubeApi } from "./kube-api.ts";

const work = mkdtempSync(join(tmpdir(), "nd-collect-rbac-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Grants as `verb group/resource@namespace` (namespace `*` for ClusterRoles). */
function grants(): Set<string> {
  const out = new Set<string>();
  const text = readFileSync(resolve(process.cwd(), "deploy/rbac-collect.yaml"), "utf8");
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as { kind: string; metadata: { namespace?: string }; rules?: Rule[] };
    if (o.kind !== "ClusterRole" && o.kind !== "Role") continue;
    const ns = o.kind === "ClusterRole" ? "*" : (o.metadata.namespace ?? "default");
    for (const r of o.rules ?? []) {
      for (const g of r.apiGroups)
        for (const res of r.resources) for (const v of r.verbs) out.add(`${v} ${g}/${res}@${ns}`);
    }
  }
  return out;
}

/** What RBAC check an API request needs. */
function needed(request: string): { verb: string; resource: string; namespace: string } {
  const [method, rawPath] = request.split(" ") as [string, string];
  const path = rawPath.split("?")[0]!;
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(\/log)?$/.exec(path);
  if (m !== null) {
    const ns = m[1]!;
    if (m[3]) return { verb: "get", resource: "/pods/log", namespace: ns };
    if (method === "POST") return { verb: "create", resource: "/pods", namespace: ns };
    if (method === "DELETE") return { verb: "delete", resource: "/pods", namespace: ns };
    return { verb: m[2] ? "get" : "list", resource: "/pods", namespace: ns };
  }
  const cluster: Record<string, string> = {
    "/api/v1/nodes": "/nodes",
    "/api/v1/pods": "/pods",
    "/api/v1/services": "/services",
    "/api/v1/configmaps": "/configmaps",
    "/api/v1/endpoints": "/endpoints",
    "/apis/discovery.k8s.io/v1/endpointslices": "discovery.k8s.io/endpointslices",
    "/apis/discovery.k8s.io/v1beta1/endpointslices": "discovery.k8s.io/endpointslices",
    "/apis/networking.k8s.io/v1/networkpolicies": "networking.k8s.io/networkpolicies",
    "/api/v1/namespaces": "/namespaces",
  };
  const resource = cluster[path];
  if (resource === undefined || method !== "GET") throw new Error(`unexpected request ${request}`);
  return { verb: "list", resource, namespace: "*" };
}

describe("deploy/rbac-collect.yaml", () => {
  it("grants every request collect, --configmaps and --cleanup make, and nothing beyond get/list/create/delete", async () => {
    const api = new FakeKubeApi({
      nodes: [{ name: "a" }, { name: "b" }],
      behavior: (n) => (n === "b" ? "iptables-fails" : "ok"),
    });
    await api.start();
    try {
      const kubeconfig = api.writeKubeconfig(work);
      await collectBundle({ out: join(work, "b1"), via: "pod", kubeconfig, configmaps: true, selector: "x" });
      await collectBundle({ out: join(work, "b2"), via: "pod", kubeconfig });
      await deleteCollectorPods(KubeApi.load({ kubeconfig }), { namespace: "kube-system" });
      const granted = grants();
      const allowed = (r: { verb: string; resource: string; namespace: string }) =>
        granted.has(`${r.verb} ${r.resource}@*`) || granted.has(`${r.verb} ${r.resource}@${r.namespace}`);
      // API discovery (`GET /apis/<group>`) is a non-resource URL every authenticated user may read
      // (the default ClusterRole system:discovery): no grant needed.
      const used = api.requests.filter((r) => !/^GET \/apis\/[^/]+$/.test(r)).map(needed);
      expect(api.requests).toContain("GET /apis/discovery.k8s.io");
      expect(used.filter((r) => !allowed(r))).toEqual([]);
      for (const verb of ["create", "delete", "get", "list"])
        expect(used.some((u) => u.verb === verb)).toBe(true);
      expect(
        [...granted]
          .map((g) => g.split(" ")[0])
          .filter((v) => !["get", "list", "create", "delete"].includes(v!)),
      ).toEqual([]);
      expect([...granted].some((g) => g.includes("secrets"))).toBe(false);
      // Pod writes are namespaced to the collector namespace only.
      expect([...granted].filter((g) => /^(create|delete) /.test(g))).toEqual([
        "create /pods@kube-system",
        "delete /pods@kube-system",
      ]);
    } finally {
      await api.close();
    }
  });
});
