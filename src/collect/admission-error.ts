import { KubeApiError } from "./kube-api-error.ts";

/**
 * Turns a rejected pod creation into a message that says what would allow it. Pod Security
 * Admission and ResourceQuota both answer 403, with their reason only in the message text.
 */
export function explainPodCreateError(error: KubeApiError, namespace: string): string {
  const m = error.message;
  if (m.includes("violates PodSecurity")) {
    return (
      `Pod Security Admission rejected the collector pod in namespace "${namespace}" (${m.replace(/^Cannot [^:]*: /, "")}). ` +
      `It needs hostNetwork, hostPID, privileged and a hostPath volume; allow them with ` +
      `\`kubectl label namespace ${namespace} pod-security.kubernetes.io/enforce=privileged\`, ` +
      `or pick a privileged namespace with --namespace, or collect with --via ssh`
    );
  }
  if (
    m.includes("exceeded quota") ||
    m.includes("must specify limits") ||
    m.includes("must specify requests")
  ) {
    return (
      `A ResourceQuota rejected the collector pod in namespace "${namespace}" (${m.replace(/^Cannot [^:]*: /, "")}). ` +
      `Raise the quota (pods, requests) or pick another namespace with --namespace, or lower --concurrency`
    );
  }
  if (error.status === 403) {
    return `${m}. Grant the RBAC in deploy/rbac-collect.yaml (create/delete pods and get pods/log in "${namespace}")`;
  }
  if (error.status === 404) return `${m} (does namespace "${namespace}" exist?)`;
  return m;
}

/** Whether an error is the API saying the object is already gone. */
export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}
