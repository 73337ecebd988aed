import { createHash } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import { collectorScript } from "./collector-script.ts";

/** Label on every pod netdoctor creates; `collect --cleanup` deletes by it. */

/** The pod's PATH: the usual system directories, then k3s's own binaries (k3s's default order). */
export const COLLECTOR_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" +
  "/var/lib/rancher/k3s/data/current/bin:/var/lib/rancher/k3s/data/current/bin/aux";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "netdoctor";
/** Label with the id of one collection run, so a run deletes exactly its own pods. */
export const RUN_ID_LABEL = "netdoctor.io/run-id";
/** Container name of the collector pod. */
export const COLLECTOR_CONTAINER = "collect";
/** Default image: busybox has everything the script needs (sh, chroot, gzip, base64, wc). */
export const DEFAULT_IMAGE = "busybox:1.36";

/** A pod name that is valid, unique per node and run, and still readable (`netdoctor-RUN-NODE-HASH`). */
export function collectorPodName(runId: string, node: string): string {
  const hash = createHash("sha256").update(node).digest("hex").slice(0, 6);
  const readable = node
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 30)
    .replace(/-+$/, "");
  return `netdoctor-${runId}-${readable}-${hash}`.replace(/--+/g, "-");
}

/**
 * The collector pod for one node: pinned by nodeName (bypasses the scheduler, so cordoned and tainted
 * nodes are reached too), host network and PID namespaces, privileged, the host's root at /host so
 * `chroot /host` runs the node's own iptables (the bug is version-specific: a container's iptables
 * would be the wrong witness). It only runs the read commands of the collector script.
 */
export function collectorPod(options: {
  runId: string;
  node: string;
  namespace: string;
  image: string;
}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: collectorPodName(options.runId, options.node),
      namespace: options.namespace,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        "app.kubernetes.io/name": "netdoctor-collect",
        [RUN_ID_LABEL]: options.runId,
      },
      annotations: { "netdoctor.io/node": options.node },
    },
    spec: {
      nodeName: options.node,
      hostNetwork: true,
      hostPID: true,
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: "Exists" }],
      containers: [
        {
          name: COLLECTOR_CONTAINER,
          image: options.image,
          imagePullPolicy: "IfNotPresent",
          command: ["/bin/sh", "-c", collectorScript()],
          env: [
            { name: "ND_PREFIX", value: "chroot /host" },
            // chroot looks commands up on this PATH inside the host's filesystem. k3s puts its bundled
            // iptables after the host's (unless --prefer-bundled-bin), so this finds the binary k3s
            // itself would run, also on nodes without a host iptables.
            { name: "PATH", value: COLLECTOR_PATH },
          ],
          securityContext: { privileged: true },
          resources: { requests: { cpu: "10m", memory: "32Mi" } },
          volumeMounts: [{ name: "host", mountPath: "/host", readOnly: true }],
        },
      ],
      volumes: [{ name: "host", hostPath: { path: "/", type: "Directory" } }],
    },
  };
}
