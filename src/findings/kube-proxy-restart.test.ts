import { describe, expect, it } from "vitest";
import type { Node } from "../model/cluster.ts";
import { nodeKindOf, restartKubeProxy } from "./kube-proxy-restart.ts";

function node(meta: Partial<Node["metadata"]>, kubeletVersion?: string): Node {
  return {
    metadata: { name: "n1", ...meta },
    addresses: [],
    ...(kubeletVersion === undefined ? {} : { kubeletVersion }),
  };
}

describe("nodeKindOf()", () => {
  it("reads k3s servers and agents from role labels, node-args and versions", () => {
    // Labels as k3s sets them on a server (k3s-io/k3s pkg/nodeconfig) and its +k3s kubelet version.
    expect(
      nodeKindOf(node({ labels: { "node-role.kubernetes.io/control-plane": "true" } }, "v1.23.6+k3s1")),
    ).toEqual({ distribution: "k3s", role: "server" });
    expect(
      nodeKindOf(node({ labels: { "node-role.kubernetes.io/master": "true" } }, "v1.23.6+k3s1")).role,
    ).toBe("server");
    expect(nodeKindOf(node({}, "v1.23.6+k3s1"))).toEqual({ distribution: "k3s", role: "agent" });
    expect(
      nodeKindOf(
        node({ annotations: { "k3s.io/node-args": '["agent","--server","https://10.0.0.1:6443"]' } }),
      ),
    ).toEqual({ distribution: "k3s", role: "agent" });
    expect(
      nodeKindOf(node({ annotations: { "k3s.io/node-args": '["server","--cluster-init"]' } })).role,
    ).toBe("server");
  });

  it("tells RKE2 and kubeadm apart, and says unknown without evidence", () => {
    expect(nodeKindOf(node({ annotations: { "rke2.io/hostname": "n1" } })).distribution).toBe("rke2");
    expect(nodeKindOf(node({}, "v1.28.9+rke2r1")).distribution).toBe("rke2");
    expect(
      nodeKindOf(
        node({ annotations: { "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd.sock" } }),
      ),
    ).toEqual({ distribution: "kubeadm", role: "unknown" });
    expect(nodeKindOf(node({}, "v1.29.1"))).toEqual({ distribution: "unknown", role: "unknown" });
    expect(nodeKindOf(undefined).distribution).toBe("unknown");
  });
});

describe("restartKubeProxy()", () => {
  it("names the command for the node's distribution and role", () => {
    expect(restartKubeProxy("m1", { distribution: "k3s", role: "server" })).toBe(
      'restart kube-proxy on "m1" (k3s server: `systemctl restart k3s`)',
    );
    expect(restartKubeProxy("a1", { distribution: "k3s", role: "agent" })).toContain(
      "`systemctl restart k3s-agent`",
    );
    expect(restartKubeProxy("w1", { distribution: "kubeadm", role: "unknown" })).toContain(
      "`kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=w1`",
    );
    expect(restartKubeProxy("r1", { distribution: "rke2", role: "agent" })).toContain("static pod");
    const unknown = restartKubeProxy("x1");
    expect(unknown).toContain("systemctl restart k3s");
    expect(unknown).toContain("spec.nodeName=x1");
  });
});
