import type { CopyRun } from "./duplicate-plan.ts";

/**
 * The copies of one group of a plan as they are decided, in chain order: copies at consecutive
 * positions of the chain extend one {@linkcode CopyRun}, so a leak's 100,000s of copies are a few
 * numbers, not a line each.
 */
export class CopyRuns {
  readonly runs: { first: number; last: number; count: number }[] = [];
  count = 0;
  /** The chain position right after the last run's last copy. */
  #next = -1;

  /** Adds `n` copies at chain positions `index..index+n-1`, the first on line `first`, the last on `last`. */
  add(index: number, n: number, lines: { first: number; last: number }): void {
    const run = this.runs[this.runs.length - 1];
    if (run !== undefined && index === this.#next) {
      run.last = lines.last;
      run.count += n;
    } else {
      this.runs.push({ first: lines.first, last: lines.last, count: n });
    }
    this.#next = index + n;
    this.count += n;
  }
}

/** Every line of `runs`, given the lines of their chain's rules in order (for tests and small plans). */
export function runLines(runs: readonly CopyRun[], chainLines: ArrayLike<number>): number[] {
  const out: number[] = [];
  let k = 0;
  for (const run of runs) {
    while (k < chainLines.length && chainLines[k]! < run.first) k++;
    for (let i = 0; i < run.count; i++) out.push(chainLines[k + i]!);
    k += run.count;
  }
  return out;
}
