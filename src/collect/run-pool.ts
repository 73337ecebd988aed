/**
 * Runs `worker` over `items` with at most `concurrency` at a time. Stops starting new items once
 * `signal` aborts; items already running are awaited (they clean up after themselves).
 * Returns the items that never started.
 */
export async function runPool<T>(
  items: readonly T[],
  worker: (item: T) => Promise<void>,
  options: { concurrency: number; signal?: AbortSignal },
): Promise<T[]> {
  let next = 0;
  const lanes: Promise<void>[] = [];
  const lane = async (): Promise<void> => {
    while (next < items.length && !options.signal?.aborted) {
      const item = items[next++] as T;
      await worker(item);
    }
  };
  for (let i = 0; i < Math.max(1, Math.min(options.concurrency, items.length)); i++) lanes.push(lane());
  await Promise.all(lanes);
  return items.slice(next);
}
