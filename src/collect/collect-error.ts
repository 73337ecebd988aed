/**
 * An I/O failure at the edge (a file that cannot be read, a command that failed, an API error),
 * wrapped once with what was being done.
 */
export class CollectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CollectError";
  }
}
