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

/** An archive that goes past a limit of `ArchiveLimits` (read-archive.ts): a zip bomb, or a lying header. */
export class ArchiveLimitError extends CollectError {
  constructor(message: string) {
    super(message);
    this.name = "ArchiveLimitError";
  }
}
