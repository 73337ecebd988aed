/**
 * Issue 12's "done when": on the demo bundle with anything removed (a node directory, any file of
 * nodes/*, any cluster/*.json, items of the API lists), `diagnose` answers reachable (exit 0) only when
 * the bundle itself shows every link. That is checked here by reading the bundle's raw files, not
 * through netdoctor's model: the client pod and its node's dump are there, the Service has the port
 * and a ready endpoint, the cluster DNS has a ready endpoint, the trace ends at a ready endpoint, and
 * the client's and the endpoint's nodes have their host files and their nft ruleset (removed at
 * random like every other file of nodes/*).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CollectError } from "../collect/collect-error.ts";
import { buildBundle } from "../demo/build-bundle.ts";
import { DEMO_FROM, DEMO_HEALTHY_FROM } from "../demo/incident.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { diagnoseFiles, healthyCluster } from "../testing/demo-bundles.ts";
import { addressText } from "../trace/address-text.ts";
import { QuestionError } from "./question-error.ts";

// biome-ignore lint/suspicious/noExplicitAny: raw kubectl JSON, read the way a person would
type Json = Record<string, any>;

const BASE = buildBundle(healthyCluster());
const NODES = ["master1", "master2", "prod-agent1"];
const NODE_FILES = [...BASE.keys()].filter((k) => k.startsWith("nodes/"));
const CLUSTER_FILES = [...BASE.keys()].filter((k) => k.startsWith("cluster/"));
const TO = "eopx-register:8848";
/**
 * The host files a packet's hops are followed with (docs/bundle.md), and the nft ruleset without
 * which a native nftables table could drop the packet unseen (host-firewall, issue 15).
 */
const HOST_PATH_FILES = [
  "nft-ruleset.json",
  "ip-addr.json",
  "ip-link.json",
  "ip-route.json",
  "ip-rule.json",
  "ip-neigh.json",
  "bridge-fdb.json",
  "sysctl.txt",
];

type Removal =
  | { readonly kind: "node-dir"; readonly node: string }
  | { readonly kind: "node-file"; readonly file: string }
  | { readonly kind: "cluster-file"; readonly file: string }
  | { readonly kind: "items"; readonly file: string; readonly picks: readonly number[] };

const removal: fc.Arbitrary<Removal> = fc.oneof(
  fc.constantFrom(...NODES).map((node) => ({ kind: "node-dir" as const, node })),
  fc.constantFrom(...NODE_FILES).map((file) => ({ kind: "node-file" as const, file })),
  fc.constantFrom(...CLUSTER_FILES).map((file) => ({ kind: "cluster-file" as const, file })),
  fc
    .record({
      file: fc.constantFrom(...CLUSTER_FILES),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    })
    .map((r) => ({ kind: "items" as const, ...r })),
);

function apply(removals: readonly Removal[]): Map<string, string> {
  const files = new Map(BASE);
  for (const r of removals) {
    if (r.kind === "node-dir") {
      for (const k of [...files.keys()]) if (k.startsWith(`nodes/${r.node}/`)) files.delete(k);
    } else if (r.kind === "node-file" || r.kind === "cluster-file") files.delete(r.file);
    else {
      const text = files.get(r.file);
      if (text === undefined) continue;
      const list = JSON.parse(text) as Json;
      for (const p of r.picks) if (list.items.length > 0) list.items.splice(p % list.items.length, 1);
      files.set(r.file, JSON.stringify(list, null, 4));
    }
  }
  return files;
}

function items(files: Map<string, string>, file: string): Json[] {
  const text = files.get(file);
  return text === undefined ? [] : ((JSON.parse(text) as Json).items as Json[]);
}

/** Ready `ip:port` endpoints of a Service, read straight from endpointslices.json. */
function readyEndpoints(files: Map<string, string>, ns: string, svc: string, port?: string): string[] {
  return items(files, "cluster/endpointslices.json")
    .filter((s) => s.metadata.namespace === ns && s.metadata.labels?.["kubernetes.io/service-name"] === svc)
    .flatMap((s) => {
      const ports = (s.ports ?? []).filter((p: Json) => port === undefined || p.name === port);
      return (s.endpoints ?? [])
        .filter((e: Json) => e.conditions?.ready !== false)
        .flatMap((e: Json) => ports.flatMap((p: Json) => e.addresses.map((a: string) => `${a}:${p.port}`)));
    });
}

/** What must hold in the raw files for "reachable" to be true; the first failed statement, or undefined. */
function unproven(files: Map<string, string>, from: string, d: Diagnosis): string | undefined {
  const [ns, name] = from.split("/");
  const pod = items(files, "cluster/pods.json").find(
    (p) => p.metadata.namespace === ns && p.metadata.name === name,
  );
  if (pod?.spec?.nodeName === undefined || pod.status?.podIP === undefined)
    return "client pod or its node/IP absent";
  if (!files.has(`nodes/${pod.spec.nodeName}/iptables-save.txt`)) return "client node's dump absent";
  const svc = items(files, "cluster/services.json").find(
    (s) => s.metadata.namespace === "eopx" && s.metadata.name === "eopx-register",
  );
  if (svc === undefined || !svc.spec.ports.some((p: Json) => p.port === 8848))
    return "Service or port absent";
  const ready = readyEndpoints(files, "eopx", "eopx-register", "http");
  if (ready.length === 0) return "no ready endpoint";
  const dns = items(files, "cluster/services.json").some(
    (s) => s.metadata.namespace === "kube-system" && s.metadata.name === "kube-dns",
  );
  if (!dns || readyEndpoints(files, "kube-system", "kube-dns").length === 0) return "cluster DNS not proven";
  if (d.trace === undefined || d.trace.traces.length === 0) return "no trace";
  // The path across nodes: the client's node and every ready endpoint's node show their host
  // network (docs/bundle.md). (flannel's node annotations are not needed: the kernel's routes,
  // neighbour and FDB entries on both ends show the overlay the packet takes.)
  const endpointNodes = items(files, "cluster/endpointslices.json")
    .filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === "eopx-register")
    .flatMap((s) => (s.endpoints ?? []).filter((e: Json) => e.conditions?.ready !== false))
    .map((e: Json) => e.nodeName as string);
  for (const node of new Set([pod.spec.nodeName as string, ...endpointNodes])) {
    const lacking = HOST_PATH_FILES.find((f) => !files.has(`nodes/${node}/${f}`));
    if (lacking !== undefined) return `nodes/${node}/${lacking} absent`;
  }
  if (!d.trace.traces.every((t) => ready.includes(addressText(t.headers.dst))))
    return "a traced path misses the endpoints";
  return undefined;
}

async function diagnose(files: Map<string, string>, from?: string): Promise<Diagnosis | "input-error"> {
  try {
    return await diagnoseFiles(files, from === undefined ? undefined : { from, to: TO });
  } catch (error) {
    if (error instanceof CollectError || error instanceof QuestionError) return "input-error";
    throw error;
  }
}

describe("diagnose() with random removals from the demo bundle", () => {
  it("answers reachable only when the bundle's own files prove every link", {
    timeout: 600_000,
  }, async () => {
    let reachable = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(removal, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(DEMO_HEALTHY_FROM, DEMO_FROM),
        async (removals, from) => {
          const d = await diagnose(apply(removals), from);
          if (d === "input-error" || d.verdict !== "reachable") {
            if (d !== "input-error") expect(d.ok).toBe(false);
            return;
          }
          reachable++;
          expect(d.ok).toBe(true);
          expect(unproven(apply(removals), from, d)).toBeUndefined();
        },
      ),
      { numRuns: 120 },
    );
    // The property must also see the reachable side (removals of unrelated items keep it).
    expect(reachable).toBeGreaterThan(0);
  });

  it("is never reachable when a host file of the client's or the endpoint's node is removed", {
    timeout: 600_000,
  }, async () => {
    expect((await diagnose(BASE, DEMO_HEALTHY_FROM)) as Diagnosis).toMatchObject({ verdict: "reachable" });
    // eopx-order runs on master1, eopx-register-0 on master2 (src/demo/incident-pods.ts).
    for (const node of ["master1", "master2"]) {
      for (const file of HOST_PATH_FILES) {
        const d = await diagnose(
          apply([{ kind: "node-file", file: `nodes/${node}/${file}` }]),
          DEMO_HEALTHY_FROM,
        );
        if (d === "input-error") throw new Error(`input error without nodes/${node}/${file}`);
        expect(d.verdict, `${node}/${file}`).not.toBe("reachable");
        expect(d.ok, `${node}/${file}`).toBe(false);
      }
    }
  });

  it("calls the full check healthy only when every API node's dump is in the bundle", {
    timeout: 600_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(removal, { minLength: 1, maxLength: 3 }), async (removals) => {
        const files = apply(removals);
        const d = await diagnose(files);
        if (d === "input-error" || d.verdict !== "reachable") return;
        const nodes = items(files, "cluster/nodes.json").map((n) => n.metadata.name as string);
        for (const n of nodes) expect(files.has(`nodes/${n}/iptables-save.txt`), n).toBe(true);
        const dirs = new Set(
          [...files.keys()].filter((k) => k.startsWith("nodes/")).map((k) => k.split("/")[1]),
        );
        for (const dir of dirs) expect(files.has(`nodes/${dir}/iptables-save.txt`), dir).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
