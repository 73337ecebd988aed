import { describe, expect, it } from "vitest";
import { BundleSchemaError, convertList, ListConverter } from "./kube-objects.ts";

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  kind: "Pod",
  metadata: {
    name,
    namespace: "shop",
    uid: `uid-${name}`,
    labels: { app: "web", "app.kubernetes.io/managed-by": "Helm" },
  },
  spec: { containers: [{ name: "c" }] },
  ...extra,
});
const service = (name: string) => ({
  kind: "Service",
  metadata: { name, namespace: "shop", uid: `uid-${name}` },
  spec: { clusterIP: "198.18.0.10", ports: [{ port: 80 }] },
});

describe("ListConverter", () => {
  it("converts items pushed one at a time as convertList() converts the whole list", () => {
    const items = [pod("a"), pod("b", { spec: { containers: "no" } }), pod("c")];
    const pushed = new ListConverter("Pod", "cluster/pods.json");
    for (const [i, item] of items.entries()) pushed.push(item, 10 * (i + 1));
    const streamed = pushed.finish({ kind: "List" });
    const whole = convertList("Pod", { kind: "List", items }, { file: "cluster/pods.json" });
    expect(streamed.items.map((p) => p.metadata.name)).toEqual(["a", "c"]);
    expect(streamed.items.map((p) => p.source)).toEqual([
      { file: "cluster/pods.json", line: 10 },
      { file: "cluster/pods.json", line: 30 },
    ]);
    expect(streamed.problems).toEqual([
      {
        file: "cluster/pods.json",
        line: 20,
        message:
          'Cannot read cluster/pods.json items[1] (shop/b): spec.containers: expected an array, got "no"',
      },
    ]);
    // The whole-list path has no text here, so no lines; otherwise the same.
    expect(whole.items).toEqual(
      streamed.items.map(({ source: _, ...p }) => ({ ...p, source: { file: "cluster/pods.json" } })),
    );
  });

  it("refuses a list whose items are all of another kind only once it has seen them all", () => {
    const c = new ListConverter("Service", "cluster/services.json");
    c.push(pod("a"), 1);
    c.push(pod("b"), 2);
    expect(() => c.finish({ kind: "List" })).toThrow(
      new BundleSchemaError(
        'Cannot read cluster/services.json: expected Service objects, got a list of "Pod"',
      ),
    );
    const mixed = new ListConverter("Service", "cluster/services.json");
    mixed.push(pod("a"), 1);
    mixed.push(service("web"), 2);
    const r = mixed.finish({ kind: "ServiceList" });
    expect(r.items.map((s) => s.metadata.name)).toEqual(["web"]);
    expect(r.problems[0]!.message).toBe(
      'Cannot read cluster/services.json items[0] (shop/a): kind: expected Service, got "Pod"',
    );
    expect(() => new ListConverter("Pod", "f").finish({ kind: "ServiceList" })).toThrow(BundleSchemaError);
  });

  it("keeps a pod's uid (the downward API reads it) and not a Service's", () => {
    const pods = convertList("Pod", { kind: "List", items: [pod("a")] }, { file: "p" }).items;
    const services = convertList("Service", { kind: "List", items: [service("web")] }, { file: "s" }).items;
    expect(pods[0]!.metadata.uid).toBe("uid-a");
    expect(services[0]!.metadata).toEqual({ name: "web", namespace: "shop" });
    expect(pods[0]!.metadata.labels).toEqual({ app: "web", "app.kubernetes.io/managed-by": "Helm" });
  });
});
