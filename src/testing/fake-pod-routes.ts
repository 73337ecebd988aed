/**
 * The pod endpoints of {@linkcode FakeKubeApi} under `/api/v1/namespaces/NS/pods`: create (with
 * the admission refusals a node's behaviour asks for), list, get, delete, and the log of a
 * collector pod carrying its framed output, followed while the container runs.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, sendList, sendStatus } from "./fake-kube-responses.ts";
import { fakeNodeOutputs } from "./fake-node-outputs.ts";
import {
  type FakeNodeBehavior,
  type FakePod,
  type FakePodTiming,
  fakePodJson,
  fakePodPhase,
} from "./fake-pod.ts";
import { encodeFrames } from "./frame-encoder.ts";

/** The pods of the fake server and how new ones behave. */
export interface FakePodStore {
  readonly pods: Map<string, FakePod>;
  /** Names of every pod ever created, in order. */
  readonly created: string[];
  /** Names of every pod deleted. */
  readonly deleted: string[];
  readonly options: FakePodTiming & {
    readonly behavior?: ((node: string) => FakeNodeBehavior) | undefined;
    readonly dump?: ((node: string) => string) | undefined;
    readonly hostFile?: ((node: string, file: string) => string | undefined) | undefined;
  };
}

async function createPod(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { namespace: string; store: FakePodStore },
): Promise<void> {
  const { namespace, store } = ctx;
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  const meta = body.metadata as { name: string };
  const node = (body.spec as { nodeName: string }).nodeName;
  const behavior = store.options.behavior?.(node) ?? "ok";
  if (behavior === "reject-psa") {
    return sendStatus(
      res,
      403,
      `pods "${meta.name}" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), privileged (container "collect" must not set securityContext.privileged=true), hostPath volumes (volume "host")`,
      "Forbidden",
    );
  }
  if (behavior === "reject-quota") {
    return sendStatus(
      res,
      403,
      `pods "${meta.name}" is forbidden: exceeded quota: pod-limit, requested: pods=1, used: pods=10, limited: pods=10`,
      "Forbidden",
    );
  }
  if (store.pods.has(meta.name))
    return sendStatus(res, 409, `pods "${meta.name}" already exists`, "AlreadyExists");
  const pod: FakePod = { name: meta.name, namespace, node, body, createdAt: Date.now(), behavior };
  store.pods.set(meta.name, pod);
  store.created.push(meta.name);
  res.writeHead(201, { "content-type": "application/json" });
  res.end(JSON.stringify(fakePodJson(pod, store.options)));
}

async function podLog(
  res: ServerResponse,
  ctx: { url: URL; pod: FakePod; store: FakePodStore },
): Promise<void> {
  const { url, pod, store } = ctx;
  const o = store.options;
  const phase = fakePodPhase(pod, o).phase;
  if (phase === "Pending") {
    return sendStatus(
      res,
      400,
      `container "collect" in pod "${pod.name}" is waiting to start: ContainerCreating`,
      "BadRequest",
    );
  }
  if (url.searchParams.get("follow") === "true" && phase === "Running") {
    // Following a running container: the log ends when the container does (never, for "hang").
    if (pod.behavior === "hang") return; // held open until the client gives up or the server closes
    const ends = pod.createdAt + (o.pendingMs ?? 30) + (o.runningMs ?? 30);
    await new Promise((r) => setTimeout(r, Math.max(0, ends - Date.now())));
  } else if (phase === "Running") {
    return sendStatus(res, 400, "fake: only follow=true reads a running container", "BadRequest");
  }
  const text = encodeFrames(fakeNodeOutputs(pod.node, pod.behavior, { dump: o.dump, hostFile: o.hostFile }), {
    done: pod.behavior !== "log-cut",
  });
  const data = pod.behavior === "log-cut" ? text.slice(0, Math.floor(text.length * 0.6)) : text;
  res.writeHead(200, { "content-type": "text/plain" });
  // Stream in chunks, as the kubelet does, so readers never get the log in one piece.
  for (let i = 0; i < data.length; i += 65536) {
    if (!res.write(data.slice(i, i + 65536))) await new Promise((r) => res.once("drain", r));
  }
  res.end();
}

/** Answers a request on the pod paths; 404 for any other path, 405 for a method they do not take. */
export async function servePods(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { url: URL; store: FakePodStore },
): Promise<void> {
  const { url, store } = ctx;
  const path = url.pathname;
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(\/log)?$/.exec(path);
  if (m === null)
    return sendStatus(res, 404, `the server could not find the requested resource (${path})`, "NotFound");
  const namespace = decodeURIComponent(m[1]!);
  const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  if (req.method === "POST" && name === undefined) return createPod(req, res, { namespace, store });
  if (req.method === "GET" && name === undefined) {
    const pods = [...store.pods.values()]
      .filter((p) => p.namespace === namespace)
      .map((p) => fakePodJson(p, store.options));
    return sendList(res, url, { kind: "Pod", items: pods as object[] });
  }
  const pod = name === undefined ? undefined : store.pods.get(name);
  if (pod === undefined || pod.namespace !== namespace) {
    return sendStatus(res, 404, `pods "${name}" not found`, "NotFound");
  }
  if (req.method === "DELETE" && m[3] === undefined) {
    store.pods.delete(pod.name);
    store.deleted.push(pod.name);
    return sendJson(res, fakePodJson(pod, store.options));
  }
  if (req.method === "GET" && m[3] === undefined) return sendJson(res, fakePodJson(pod, store.options));
  if (req.method === "GET" && m[3] !== undefined) return podLog(res, { url, pod, store });
  return sendStatus(res, 405, `method ${req.method} not allowed`, "MethodNotAllowed");
}
