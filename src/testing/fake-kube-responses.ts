/**
 * The answers of {@linkcode FakeKubeApi}: Kubernetes `Status` errors, JSON bodies, and lists with
 * label selectors and limit/continue paging as the real API server pages them.
 */
import type { ServerResponse } from "node:http";

/** Answers a Kubernetes `Status` object with HTTP `code`. */
export function sendStatus(res: ServerResponse, code: number, message: string, reason = "Failure"): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      code,
    }),
  );
}

/** Answers `body` as JSON with HTTP 200. */
export function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function matchesSelector(labels: Record<string, string>, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k, v] = term.split("=") as [string, string | undefined];
    if (v === undefined) return k in labels;
    return labels[k] === v;
  });
}

function labelsOf(obj: unknown): Record<string, string> {
  return ((obj as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {}) as Record<
    string,
    string
  >;
}

/**
 * Answers a `KINDList` of `items`, filtered by the request's `labelSelector` (equality and
 * existence terms) and paged by its `limit` and `continue` (an offset here).
 */
export function sendList(
  res: ServerResponse,
  url: URL,
  list: { kind: string; items: readonly object[]; apiVersion?: string },
): void {
  const { kind, items, apiVersion = "v1" } = list;
  const filtered = items.filter((i) => matchesSelector(labelsOf(i), url.searchParams.get("labelSelector")));
  const limit = Number(url.searchParams.get("limit") ?? 0);
  const start = Number(url.searchParams.get("continue") ?? 0);
  const page = limit > 0 ? filtered.slice(start, start + limit) : filtered.slice(start);
  const next = limit > 0 && start + limit < filtered.length ? String(start + limit) : undefined;
  sendJson(res, {
    kind: `${kind}List`,
    apiVersion,
    metadata: { resourceVersion: "12345", ...(next ? { continue: next } : {}) },
    items: page,
  });
}
