import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle } from "../demo/build-bundle.ts";
import { healthyCluster, replaceIn } from "../testing/demo-bundles.ts";
import { LARGE_BUNDLE_QUESTION, writeLargeApiBundle } from "../testing/large-api-bundle.ts";
import { writeBundleFiles } from "./demo-bundle.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";
import { readBundle } from "./read-bundle.ts";
import type { ListThread, ReadListsOptions } from "./read-lists.ts";

let work: string;
let large: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "nd-read-lists-"));
  large = join(work, "large");
  await writeLargeApiBundle(large, { services: 4000 });
  // One bad item in each large list: the problems must come back too, with their lines.
  const patch = async (file: string, from: string, to: string) => {
    const path = join(large, "cluster", file);
    const text = await readFile(path, "utf8");
    expect(text).toContain(from);
    await writeFile(path, text.replace(from, to));
  };
  await patch("services.json", '"targetPort": 8080', '"targetPort": -1');
  await patch("endpointslices.json", '"addressType": "IPv4"', '"addressType": 4');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Every list on the main thread: the reference a worker's read must equal. */
const ON_MAIN: ReadListsOptions = { workerMinBytes: Number.POSITIVE_INFINITY };

/** The large bundle read on the main thread, read once for the tests that compare with it. */
let largeOnMain: ReturnType<typeof readBundle> | undefined;
const readLargeOnMain = () => (largeOnMain ??= readBundle(large, { lists: ON_MAIN }));

/** Where each list was read, as readBundle reports it. */
function recorder(options: ReadListsOptions = {}) {
  const where = new Map<string, ListThread>();
  return { where, lists: { ...options, onRead: (file: string, t: ListThread) => where.set(file, t) } };
}

/**
 * Each object of `value` in the order a walk meets it: its first meeting's number (so a shared
 * object shows as a repeated number) and whether it is frozen.
 */
function identities(value: unknown): string[] {
  const seen = new Map<object, number>();
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null) return;
    const known = seen.get(v);
    out.push(`${known ?? seen.size}${Object.isFrozen(v) ? " frozen" : ""}`);
    if (known !== undefined) return;
    seen.set(v, seen.size);
    for (const x of Object.values(v)) walk(x);
  };
  walk(value);
  return out;
}

describe("readBundle() with the large lists in workers", () => {
  it("gives the objects, problems and sharing a read on the main thread gives", async () => {
    const inWorkers = recorder({ maxWorkers: 2 });
    const worker = await readBundle(large, { lists: inWorkers.lists });
    const onMain = recorder(ON_MAIN);
    const main = await readBundle(large, { lists: onMain.lists });
    expect(inWorkers.where.get("cluster/services.json")).toBe("worker");
    expect(inWorkers.where.get("cluster/endpointslices.json")).toBe("worker");
    expect([...onMain.where.values()].every((t) => t === "main")).toBe(true);
    expect(worker.cluster.services).toHaveLength(3999);
    expect(worker.cluster.endpointSlices).toHaveLength(3999);
    expect(worker.problems.map((p) => p.evidence[0]?.file)).toEqual([
      "cluster/services.json",
      "cluster/endpointslices.json",
    ]);
    expect(worker).toStrictEqual(main);
    expect(identities(worker.cluster)).toEqual(identities(main.cluster));
  });

  it("splits the lists between a worker and the main thread", async () => {
    const split = recorder({ maxWorkers: 1 });
    const b = await readBundle(large, { lists: split.lists });
    // The larger list goes to the worker, the other stays on the main thread (no copy back).
    expect(split.where.get("cluster/endpointslices.json")).toBe("worker");
    expect(split.where.get("cluster/services.json")).toBe("main");
    expect(b).toStrictEqual(await readLargeOnMain());
  });

  it("reads the lists on the main thread when the worker dies without answering", async () => {
    const dies = join(work, "dies.mjs");
    await writeFile(dies, "process.exit(3);\n");
    const r = recorder({ maxWorkers: 2, workerUrl: pathToFileURL(dies) });
    const b = await readBundle(large, { lists: r.lists });
    expect(r.where.get("cluster/services.json")).toBe("main");
    expect(r.where.get("cluster/endpointslices.json")).toBe("main");
    expect(b).toStrictEqual(await readLargeOnMain());
  });

  it("reads a small bundle's lists on the main thread", async () => {
    const dir = join(work, "small");
    await writeBundleFiles(dir, buildBundle(healthyCluster()));
    const r = recorder();
    await readBundle(dir, { lists: r.lists });
    expect(r.where.size).toBeGreaterThan(0);
    expect([...r.where.values()].every((t) => t === "main")).toBe(true);
  });

  it("leaves diagnose's answer as it was", async () => {
    const main = await diagnoseBundleDir(large, LARGE_BUNDLE_QUESTION, { lists: ON_MAIN });
    const worker = await diagnoseBundleDir(large, LARGE_BUNDLE_QUESTION);
    expect(main.question?.clientNode).toBe("node-1");
    expect(worker).toStrictEqual(main);
  });
});

/** A broken bundle: what the worker's read and the main thread's give, as data. */
async function outcome(dir: string, lists: ReadListsOptions) {
  try {
    return { bundle: await readBundle(dir, { lists }) };
  } catch (error) {
    return { error: { class: (error as Error).constructor.name, message: (error as Error).message } };
  }
}

const BROKEN: readonly { readonly name: string; readonly broken: (files: Map<string, string>) => void }[] = [
  { name: "a missing required list", broken: (f) => f.delete("cluster/services.json") },
  {
    name: "invalid JSON",
    broken: (f) => replaceIn(f, "cluster/services.json", '"kind": "List"', '"kind": "List",,'),
  },
  {
    name: "a list of another kind",
    broken: (f) => f.set("cluster/services.json", f.get("cluster/pods.json")!.replace('"List"', '"PodList"')),
  },
  {
    name: "items of another kind",
    broken: (f) => f.set("cluster/services.json", f.get("cluster/pods.json")!),
  },
  {
    name: "a malformed item",
    broken: (f) => replaceIn(f, "cluster/services.json", '"port": 8081', '"port": "eighty"'),
  },
  {
    name: "a broken optional list",
    broken: (f) => f.set("cluster/configmaps.json", '{"kind": "List", "items": [}'),
  },
  {
    name: "a list not in kubectl's layout",
    broken: (f) =>
      f.set("cluster/services.json", JSON.stringify(JSON.parse(f.get("cluster/services.json")!))),
  },
  {
    name: "an unterminated list",
    broken: (f) => f.set("cluster/endpointslices.json", '{"kind": "List", "items": ['),
  },
];

describe("readBundle() with a broken list read in a worker", () => {
  for (const { name, broken } of BROKEN) {
    it(`${name}: the same bundle or the same error as on the main thread`, async () => {
      const files = buildBundle(healthyCluster());
      broken(files);
      const dir = join(work, name.replaceAll(" ", "-").replaceAll("'", ""));
      await writeBundleFiles(dir, files);
      // One worker per list: the broken one is read in a worker whatever its size.
      const r = recorder({ workerMinBytes: 0, maxWorkers: 8 });
      const worker = await outcome(dir, r.lists);
      expect(r.where.get("cluster/services.json")).toBe("worker");
      expect(worker).toStrictEqual(await outcome(dir, ON_MAIN));
    });
  }

  it("an unreadable list: the same error as on the main thread", async () => {
    const dir = join(work, "unreadable");
    await writeBundleFiles(dir, buildBundle(healthyCluster()));
    await rm(join(dir, "cluster/services.json"));
    await mkdir(join(dir, "cluster/services.json"));
    const worker = await outcome(dir, { workerMinBytes: 0, maxWorkers: 8 });
    expect(worker).toStrictEqual(await outcome(dir, ON_MAIN));
    expect(worker.error?.class).toBe("CollectError");
  });
});
