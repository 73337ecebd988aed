import { describe, expect, it } from "vitest";
import { explainPodCreateError } from "./admission-error.ts";
import { KubeApiError } from "./kube-api.ts";

const err = (status: number, message: string) =>
  new KubeApiError(`Cannot create pod ns/p: ${message}`, status);

describe("explainPodCreateError()", () => {
  it("names the Pod Security label that admits the collector pod", () => {
    const m = explainPodCreateError(
      err(403, 'pods "p" is forbidden: violates PodSecurity "restricted:latest": ...'),
      "tools",
    );
    expect(m).toContain('Pod Security Admission rejected the collector pod in namespace "tools"');
    expect(m).toContain("kubectl label namespace tools pod-security.kubernetes.io/enforce=privileged");
  });

  it("tells a quota rejection from an RBAC one", () => {
    expect(explainPodCreateError(err(403, "exceeded quota: q, requested: pods=1"), "ns")).toMatch(
      /^A ResourceQuota rejected the collector pod in namespace "ns" \(exceeded quota/,
    );
    expect(
      explainPodCreateError(err(403, 'pods is forbidden: User "u" cannot create resource "pods"'), "ns"),
    ).toMatch(
      /Grant the RBAC in deploy\/rbac-collect\.yaml \(create\/delete pods and get pods\/log in "ns"\)$/,
    );
  });

  it("asks whether a missing namespace exists", () => {
    expect(explainPodCreateError(err(404, 'namespaces "nope" not found'), "nope")).toBe(
      'Cannot create pod ns/p: namespaces "nope" not found (does namespace "nope" exist?)',
    );
  });
});
