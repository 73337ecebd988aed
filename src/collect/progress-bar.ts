/** The part of a TTY stream the progress bar uses. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

/**
 * One self-overwriting line (`collect [#####-----] 120/200 nodes, 3 failed`) on a terminal; does
 * nothing when the stream is not a TTY, so logs and pipes stay clean.
 */
export class ProgressBar {
  readonly #stream: ProgressStream;
  readonly #label: string;
  #last = 0;
  #shown = false;

  constructor(stream: ProgressStream, label: string) {
    this.#stream = stream;
    this.#label = label;
  }

  /** Redraws at most ten times a second (always on the last item). */
  update(done: number, failed: number, total: number): void {
    if (!this.#stream.isTTY) return;
    const now = Date.now();
    if (done < total && now - this.#last < 100) return;
    this.#last = now;
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const line = `${this.#label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} nodes${failed > 0 ? `, ${failed} failed` : ""}`;
    this.#stream.write(`\r\x1b[2K${line.slice(0, (this.#stream.columns ?? 200) - 1)}`);
    this.#shown = true;
  }

  /** Clears the line so the summary starts at column 0. */
  finish(): void {
    if (this.#shown) this.#stream.write("\r\x1b[2K");
    this.#shown = false;
  }
}
