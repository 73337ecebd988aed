/**
 * Reads a bundle's large API lists in `node:worker_threads` workers while the main thread goes on
 * (issue 14): on a cluster of 83,705 Services, services.json and endpointslices.json take ~2 s to
 * read and convert, as long as the question's node dump takes to parse, and the machine has two
 * cores. Each worker reads its lists with the same code as the main thread (read-kube-list.ts) and
 * hands the objects back in the compact form of plain-encoder.ts, so what the caller gets is what a
 * read on the main thread gives: the same objects, problems and errors.
 *
 * Small lists stay on the main thread (a worker costs 30-50 ms to start). The worker's file is
 * dist/read-lists-worker.mjs beside the built CLI or library; run from source (tsx, vitest) it is
 * read-lists-worker.ts, loaded through tsx. When neither is there, or a worker dies without answering
 * (out of memory, tsx missing), the lists it had are read on the main thread instead.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
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
  /** Workers at most (default: one per core but the main thread's, at least 1, at most 3). */
  readonly maxWorkers?: number;
  /** Told where each list was read (tests check the worker path is taken). */
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

/** How to start the worker, or undefined when its file is not there. */
function workerEntry(): { readonly url: URL; readonly source: boolean } | undefined {
  const here = new URL(import.meta.url);
  // dist/index.mjs has the worker beside it; the CLI's code sits in dist/chunks/.
  for (const rel of ["./read-lists-worker.mjs", "../read-lists-worker.mjs"]) {
    const url = new URL(rel, here);
    if (existsSync(fileURLToPath(url))) return { url, source: false };
  }
  const source = new URL("./read-lists-worker.ts", here);
  return here.pathname.endsWith(".ts") && existsSync(fileURLToPath(source))
    ? { url: source, source: true }
    : undefined;
}

function startWorker(entry: { readonly url: URL; readonly source: boolean }, data: ListWorkerData): Worker {
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

/**
 * Starts reading the lists of `specs` from bundle `dir`: the large ones in workers, now; the
 * others on the main thread when asked for.
 */
export async function readLists(
  dir: string,
  specs: readonly ListFile[],
  options: ReadListsOptions = {},
): Promise<ListReads> {
  const sizes = await Promise.all(specs.map((s) => sizeOf(`${dir}/${s.file}`)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const minBytes = options.workerMinBytes ?? WORKER_MIN_BYTES;
  const entry = total < minBytes ? undefined : workerEntry();
  const fileMin = Math.min(WORKER_FILE_MIN_BYTES, minBytes / 8);
  const inWorkers =
    entry === undefined
      ? []
      : specs.map((spec, i) => ({ spec, size: sizes[i]! })).filter((l) => l.size >= fileMin);
  const onMain = (spec: ListFile): Promise<ListRead> => {
    options.onRead?.(spec.file, "main");
    return readKubeList(dir, spec);
  };
  const pending = new Map<ObjectKind, ReturnType<typeof deferred<ListRead>>>();
  const workers: Worker[] = [];
  let cancelled = false;
  const maxWorkers = options.maxWorkers ?? Math.max(1, Math.min(3, availableParallelism() - 1));
  const EXP = process.env.ND_EXP;
  const plan =
    EXP === "both"
      ? [inWorkers.map((l) => l.spec)]
      : EXP === "two"
        ? shares(inWorkers, 2).concat()
        : shares(inWorkers, maxWorkers);
  if (EXP === "two") plan.splice(0, plan.length, ...inWorkers.map((l) => [l.spec]));
  for (const lists of plan) {
    for (const spec of lists) pending.set(spec.kind, deferred());
    const worker = startWorker(entry!, { dir, lists });
    workers.push(worker);
    const left = new Set(lists);
    worker.on("message", (m: ListWorkerMessage) => {
      const spec = lists.find((s) => s.kind === m.kind)!;
      left.delete(spec);
      if ("error" in m) {
        // The worker stopped there, as a read on the main thread would have: its later lists are not read.
        const error = receiveError(m.error);
        pending.get(m.kind)!.reject(error);
        for (const s of left) pending.get(s.kind)!.reject(error);
        return left.clear();
      }
      options.onRead?.(spec.file, "worker");
      pending.get(m.kind)!.resolve(decodePlain(m.read) as ListRead);
    });
    // A worker's own failure (not a list's: those come as messages) is told by its exit.
    worker.on("error", () => {});
    worker.on("exit", () => {
      if (cancelled) return;
      let chain = Promise.resolve();
      for (const spec of left) {
        const d = pending.get(spec.kind)!;
        chain = chain.then(() => onMain(spec).then(d.resolve, d.reject));
      }
      left.clear();
    });
  }
  return {
    workers: workers.length,
    read: <K extends ObjectKind>(kind: K) => {
      const p = pending.get(kind);
      const spec = specs.find((s) => s.kind === kind);
      if (p !== undefined) return p.promise as Promise<ListRead<K>>;
      if (spec === undefined) throw new RangeError(`Cannot read list ${kind}: it was not asked for`);
      return onMain(spec) as Promise<ListRead<K>>;
    },
    cancel: () => {
      cancelled = true;
      for (const w of workers) void w.terminate();
    },
  };
}
