/**
 * The list worker's entry (built as dist/read-lists-worker.mjs; read-lists.ts starts it): reads
 * the API lists it is given, in order, and posts each one as it is done: its items and problems
 * in the compact form of plain-encoder.ts, each item encoded as soon as it is converted (so the
 * worker never holds the objects). It stops at the first list that throws and posts the error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type EncodedPlain, PlainEncoder, transferablesOf } from "./plain-encoder.ts";
import { type ListFile, type ListRead, readKubeList } from "./read-kube-list.ts";
import { type SentError, sendError } from "./sent-error.ts";

/** What the worker is given. */
export interface ListWorkerData {
  readonly dir: string;
  readonly lists: readonly ListFile[];
}

/** What the worker posts for each list: its {@linkcode ListRead}, encoded, or the error that stopped it. */
export type ListWorkerMessage =
  | { readonly kind: ListFile["kind"]; readonly read: EncodedPlain }
  | { readonly kind: ListFile["kind"]; readonly error: SentError };

/** One list as `{ items, problems }`, encoded: the items as the reader converts them. */
async function encodedList(dir: string, spec: ListFile): Promise<EncodedPlain> {
  const e = new PlainEncoder();
  e.openObject(["items", "problems"] satisfies (keyof ListRead)[]);
  const items = e.openArray();
  const start = e.mark();
  let count = 0;
  const read = await readKubeList(dir, spec, {
    sink: {
      add: (item) => {
        e.value(item);
        count++;
      },
      clear: () => {
        e.rollback(start);
        count = 0;
      },
    },
  });
  e.closeArray(items, count);
  e.value(read.problems);
  return e.finish();
}

async function run(port: NonNullable<typeof parentPort>, job: ListWorkerData): Promise<void> {
  for (const spec of job.lists) {
    let message: ListWorkerMessage;
    try {
      const read = await encodedList(job.dir, spec);
      port.postMessage({ kind: spec.kind, read } satisfies ListWorkerMessage, transferablesOf(read));
      continue;
    } catch (error) {
      message = { kind: spec.kind, error: sendError(error) };
    }
    port.postMessage(message);
    return;
  }
}

if (parentPort !== null) await run(parentPort, workerData as ListWorkerData);
