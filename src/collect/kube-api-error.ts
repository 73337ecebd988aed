import { CollectError } from "./collect-error.ts";

/**
 * An error status from the Kubernetes API, with the server's own message. Its own module: code that
 * only tells API errors apart (the exporter's comparison, the collectors) does not load the client.
 */
export class KubeApiError extends CollectError {
  /** HTTP status code (403, 404, ...); 0 when the server could not be reached. */
  readonly status: number;
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KubeApiError";
    this.status = status;
  }
}
