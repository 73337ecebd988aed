/**
 * A collector pod of {@linkcode FakeKubeApi}: its behaviour, its timed lifecycle (Pending, then
 * Running, then ended) and its JSON as the API server shows it.
 */

/** How a node's collector pod behaves. */
export type FakeNodeBehavior =
  | "ok"
  /** Pod Security Admission rejects the pod (403). */
  | "reject-psa"
  /** A ResourceQuota rejects the pod (403). */
  | "reject-quota"
  /** The pod stays Pending with ImagePullBackOff forever. */
  | "never-start"
  /** The pod runs forever (the per-node timeout must fire). */
  | "hang"
  /** iptables-save exits 1 with the stderr of a known failure. */
  | "iptables-fails"
  /** The log is cut before the end (container killed). */
  | "log-cut";

/** A pod the fake server created. */
export interface FakePod {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly body: Record<string, unknown>;
  readonly createdAt: number;
  readonly behavior: FakeNodeBehavior;
}

/** Milliseconds a pod stays Pending, then Running (defaults 30 and 30). */
export interface FakePodTiming {
  readonly pendingMs?: number;
  readonly runningMs?: number;
}

/** The phase of `pod` now, with the container's waiting reason or termination. */
export function fakePodPhase(
  pod: FakePod,
  timing: FakePodTiming,
): {
  phase: string;
  waiting?: string;
  terminated?: { reason: string; exitCode: number };
} {
  const age = Date.now() - pod.createdAt;
  const pending = timing.pendingMs ?? 30;
  const running = timing.runningMs ?? 30;
  if (pod.behavior === "never-start") return { phase: "Pending", waiting: "ImagePullBackOff" };
  if (age < pending) return { phase: "Pending", waiting: "ContainerCreating" };
  if (pod.behavior === "hang" || age < pending + running) return { phase: "Running" };
  if (pod.behavior === "log-cut")
    return { phase: "Failed", terminated: { reason: "OOMKilled", exitCode: 137 } };
  return { phase: "Succeeded", terminated: { reason: "Completed", exitCode: 0 } };
}

/** `pod` as the API server returns it: the created body plus uid, timestamp and status. */
export function fakePodJson(pod: FakePod, timing: FakePodTiming): unknown {
  const s = fakePodPhase(pod, timing);
  return {
    ...pod.body,
    metadata: {
      ...(pod.body.metadata as object),
      uid: `uid-${pod.name}`,
      creationTimestamp: new Date(pod.createdAt).toISOString(),
    },
    status: {
      phase: s.phase,
      containerStatuses: [
        {
          name: "collect",
          ready: s.phase === "Running",
          restartCount: 0,
          image: "busybox:1.36",
          imageID: "",
          state: s.waiting
            ? {
                waiting: {
                  reason: s.waiting,
                  message:
                    s.waiting === "ImagePullBackOff" ? 'Back-off pulling image "busybox:1.36"' : undefined,
                },
              }
            : s.terminated
              ? {
                  terminated: {
                    ...s.terminated,
                    startedAt: new Date(pod.createdAt).toISOString(),
                    finishedAt: new Date().toISOString(),
                  },
                }
              : { running: { startedAt: new Date(pod.createdAt).toISOString() } },
        },
      ],
    },
  };
}
