/** What one node command produced, before it becomes bundle files. */
export interface CommandResult {
  /** File stem, see {@linkcode NodeCommand}. */
  readonly stem: string;
  /** Exit code on the node. */
  readonly exit: number;
  /** Temporary file (mode 0600) holding stdout; renamed into the bundle or removed. */
  readonly stdoutPath: string;
  readonly stdoutBytes: number;
  /** stderr as text; bounded by {@linkcode MAX_STDERR_BYTES}. */
  readonly stderr: string;
}

/** A failing iptables prints a few lines; anything beyond this is cut with a marker. */
export const MAX_STDERR_BYTES = 1 << 20;

/** Bounded stderr text: a note marks where it was cut so the file never pretends to be whole. */
export function boundedText(chunks: readonly Buffer[], total: number): string {
  const text = Buffer.concat(chunks).subarray(0, MAX_STDERR_BYTES).toString("utf8");
  return total > MAX_STDERR_BYTES
    ? `${text}\n[netdoctor: stderr cut at ${MAX_STDERR_BYTES} of ${total} bytes]\n`
    : text;
}
