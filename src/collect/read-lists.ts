/**
 * Reads a bundle's large API lists in `node:worker_threads` workers while the main thread goes on
 * (issue 14): on a cluster of 83,705 Services, services.json and endpointslices.json take ~2 s to
 * read and convert, longer than the question's node dump takes to parse, and the machine has two
 * cores. Each worker reads its lists with the same code as the main thread (read-kube-list.ts) and
 * hands the objects back in the compact form of plain-encoder.ts, so what the caller gets is what a
 * read on the main thread gives: the same objects, problems and errors. Handing them back costs
 * the main thread ~0.2 s for 83,705 EndpointSlices (a structured clone: 1.1-1.9 s for both lists).
 *
 * The main thread keeps a share of the lists (what it reads costs no copy back): on two cores, one
 * worker reads endpointslices.json while the main thread reads services.json and the node's dump.
 * Small lists stay on the main thread (a worker costs 30-50 ms to start). The worker's file is
 * dist/read-lists-worker.mjs beside the built CLI or library; run from source (tsx, vitest) it is
 * read-lists-worker.ts, loaded through tsx. When neither is there, or a worker dies without answering
 * (out of memory, tsx missing), the lists it had are read on the main thread instead.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ObjectKind } from "./kube-objects.ts";
import { decodePlain } from "./plain-decoder.ts";
import { type ListFile, type ListRead, readKubeList } from "./read-kube-list.ts";
import type { ListWorkerData, ListWorkerMessage } from "./read-lists-worker.ts";
import { receiveError } from "./sent-error.ts";

/** Below this many bytes of lists in all, every list is read on the main thread. */
export const WORKER_MIN_BYTES = 8 << 20;
/** A list file smaller than this is read on the main thread even when others go to workers. */
const WORKER_FILE_MIN_BYTES = 1 << 20;

/** Where a list was read. */
export type ListThread = "worker" | "main";

export interface ReadListsOptions {
  /** Lists totalling fewer bytes are all read on the main thread (default {@linkcode WORKER_MIN_BYTES}). */
  readonly workerMinBytes?: number;
  /** The worker's module (default: read-lists-worker.mjs beside the built code, or its source). */
  readonly workerUrl?: URL;
  /** Workers at most (default: one per core but the main thread's, at most 3; none on one core). */
  readonly maxWorkers?: number;
  /** Told where each list is read, or failed to be (tests check which path was taken). */
  readonly onRead?: (file: string, thread: ListThread) => void;
}

/** The reads of a bundle's lists, under way. */
export interface ListReads {
  /** The read of one list; a list on the main thread is read when first asked for. */
  read<K extends ObjectKind>(kind: K): Promise<ListRead<K>>;
  /** How many workers were started. */
  readonly workers: number;
  /** Stops the workers (the caller is giving up: another list failed). */
  cancel(): void;
}

/** The worker's module, and whether it is TypeScript source. */
interface WorkerEntry {
  readonly url: URL;
  readonly source: boolean;
}

/** How to start the worker, or undefined when its file is not there. */
function workerEntry(url: URL | undefined): WorkerEntry | undefined {
  if (url !== undefined) return { url, source: url.pathname.endsWith(".ts") };
  const here = new URL(import.meta.url);
  // dist/index.mjs has the worker beside it; the CLI's commands sit in dist/commands/NAME/.
  for (const rel of ["./read-lists-worker.mjs", "../../read-lists-worker.mjs"]) {
    const url = new URL(rel, here);
    if (existsSync(fileURLToPath(url))) return { url, source: false };
  }
  const source = new URL("./read-lists-worker.ts", here);
  return here.pathname.endsWith(".ts") && existsSync(fileURLToPath(source))
    ? { url: source, source: true }
    : undefined;
}

function startWorker(entry: WorkerEntry, data: ListWorkerData): Worker {
  if (!entry.source) return new Worker(entry.url, { workerData: data });
  // Node 20 cannot load TypeScript: the source worker is imported through tsx (a dev dependency).
  const href = JSON.stringify(entry.url.href);
  const code = `import("tsx/esm/api").then((tsx) => tsx.tsImport(${href}, ${href}))`;
  return new Worker(code, { eval: true, workerData: data });
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * The lists each worker reads, each worker's in the given order: the largest list first, each to
 * the least loaded of the workers and the main thread, which is last in line (the same lists split
 * between one worker and the main thread: endpointslices.json to the worker, services.json to the
 * main thread). What the main thread reads costs no copy back.
 */
function shares(lists: readonly { spec: ListFile; size: number }[], workers: number): ListFile[][] {
  const bins = Array.from({ length: workers + 1 }, () => ({ bytes: 0, lists: [] as number[] }));
  const bySize = lists.map((l, i) => ({ ...l, i })).sort((a, b) => b.size - a.size);
  for (const l of bySize) {
    const least = bins.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    least.bytes += l.size;
    least.lists.push(l.i);
  }
  return bins
    .slice(0, workers)
    .filter((w) => w.lists.length > 0)
    .map((w) => w.lists.sort((a, b) => a - b).map((i) => lists[i]!.spec));
}

/** A promise and its settlers; marked handled, so a read nobody asks for may fail quietly. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

type Deferred = ReturnType<typeof deferred<ListRead>>;

/**
 * Starts a worker on `lists` and settles their reads as its messages come. A list that fails
 * fails the worker's later ones with it (the worker stops there, as the main thread would have);
 * the lists of a worker that dies without answering for them are read by `fallback`.
 */
function startListWorker(
  entry: WorkerEntry,
  job: ListWorkerData,
  hooks: {
    readonly reads: ReadonlyMap<ObjectKind, Deferred>;
    readonly fallback: (spec: ListFile) => Promise<ListRead>;
    readonly cancelled: () => boolean;
    readonly onRead?: ((file: string, thread: ListThread) => void) | undefined;
  },
): Worker {
  const worker = startWorker(entry, job);
  const left = new Set(job.lists);
  const settle = (spec: ListFile, outcome: () => ListRead) => {
    left.delete(spec);
    hooks.onRead?.(spec.file, "worker");
    const d = hooks.reads.get(spec.kind)!;
    try {
      d.resolve(outcome());
    } catch (error) {
      d.reject(error);
      for (const s of left) hooks.reads.get(s.kind)!.reject(error);
      left.clear();
    }
  };
  worker.on("message", (m: ListWorkerMessage) => {
    const spec = job.lists.find((s) => s.kind === m.kind)!;
    settle(spec, () => {
      if ("error" in m) throw receiveError(m.error);
      return decodePlain(m.read) as ListRead;
    });
  });
  // A worker's own failure (not a list's: those come as messages) shows in its exit.
  worker.on("error", () => {});
  worker.on("exit", () => {
    if (hooks.cancelled()) return;
    let chain = Promise.resolve();
    for (const spec of left) {
      const d = hooks.reads.get(spec.kind)!;
      chain = chain.then(() => hooks.fallback(spec).then(d.resolve, d.reject));
    }
    left.clear();
  });
  return worker;
}

/**
 * Starts reading the lists of `specs` from bundle `dir`: the large ones in workers, now; the
 * others on the main thread, each when asked for.
 */
export async function readLists(
  dir: string,
  specs: readonly ListFile[],
  options: ReadListsOptions = {},
): Promise<ListReads> {
  const sizes = await Promise.all(specs.map((s) => sizeOf(join(dir, s.file))));
  const minBytes = options.workerMinBytes ?? WORKER_MIN_BYTES;
  const entry = sizes.reduce((a, b) => a + b, 0) < minBytes ? undefined : workerEntry(options.workerUrl);
  const fileMin = Math.min(WORKER_FILE_MIN_BYTES, minBytes / 8);
  const large = specs.map((spec, i) => ({ spec, size: sizes[i]! })).filter((l) => l.size >= fileMin);
  const onMain = (spec: ListFile): Promise<ListRead> => {
    options.onRead?.(spec.file, "main");
    return readKubeList(dir, spec);
  };
  const reads = new Map<ObjectKind, Deferred>();
  const workers: Worker[] = [];
  let cancelled = false;
  // One core: a worker would only add its start-up and the copy back.
  const maxWorkers = options.maxWorkers ?? Math.min(3, availableParallelism() - 1);
  for (const lists of entry === undefined ? [] : shares(large, maxWorkers)) {
    for (const spec of lists) reads.set(spec.kind, deferred());
    const hooks = { reads, fallback: onMain, cancelled: () => cancelled, onRead: options.onRead };
    workers.push(startListWorker(entry!, { dir, lists }, hooks));
  }
  return {
    workers: workers.length,
    read: <K extends ObjectKind>(kind: K) => {
      const inWorker = reads.get(kind);
      if (inWorker !== undefined) return inWorker.promise as Promise<ListRead<K>>;
      const spec = specs.find((s) => s.kind === kind);
      if (spec === undefined) throw new RangeError(`Cannot read list ${kind}: it was not asked for`);
      return onMain(spec) as Promise<ListRead<K>>;
    },
    cancel: () => {
      cancelled = true;
      for (const w of workers) void w.terminate();
    },
  };
}
