import { describe, expect, it } from "vitest";
import { collectorPod, collectorPodName } from "./collector-pod.ts";
import { httpGetScript, NODE_COMMANDS } from "./node-commands.ts";

/** POSIX single-quoting of one word, independent of the script writer's own. */
function shellWord(w: string): string {
  return `'${w.split("'").join(`'\\''`)}'`;
}

describe("collectorPod()", () => {
  const pod = collectorPod({
    runId: "ab12cd34",
    node: "prod-agent1",
    namespace: "kube-system",
    image: "busybox:1.36",
  });

  it("pins the pod to its node with host namespaces, privilege, /host read-only and every taint tolerated", () => {
    expect(pod.spec).toMatchObject({
      nodeName: "prod-agent1",
      hostNetwork: true,
      hostPID: true,
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      tolerations: [{ operator: "Exists" }],
      volumes: [{ name: "host", hostPath: { path: "/", type: "Directory" } }],
    });
    const c = pod.spec?.containers[0];
    expect(c?.securityContext).toEqual({ privileged: true });
    expect(c?.volumeMounts).toEqual([{ name: "host", mountPath: "/host", readOnly: true }]);
    expect(c?.env).toEqual([
      { name: "ND_PREFIX", value: "chroot /host" },
      {
        name: "PATH",
        value:
          "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/var/lib/rancher/k3s/data/current/bin:/var/lib/rancher/k3s/data/current/bin/aux",
      },
    ]);
    // Only the listed read commands run.
    const script = c?.command?.[2] ?? "";
    const runs = script.split("\n").filter((l) => l.startsWith("run "));
    expect(runs.slice(0, 10)).toEqual([
      "run iptables-save 'iptables-save'",
      "run iptables-version 'iptables' '--version'",
      "run iptables-legacy-save 'iptables-legacy-save'",
      "run nft-ruleset 'nft' '-a' 'list' 'ruleset'",
      "run nft-ruleset-json 'nft' '-j' 'list' 'ruleset'",
      "run k3s-version 'k3s' '--version'",
      `run kube-proxy-metrics 'sh' '-c' ${shellWord(httpGetScript("http://127.0.0.1:10249/metrics"))}`,
      `run kube-proxy-mode 'sh' '-c' ${shellWord(httpGetScript("http://127.0.0.1:10249/proxyMode"))}`,
      "run ipset-save 'sh' '-c' 'if [ -d /sys/module/ip_set ]; then exec ipset save; else exit 127; fi'",
      "run ipvsadm 'sh' '-c' 'if [ -e /proc/net/ip_vs ]; then exec ipvsadm -Sn; else exit 127; fi'",
    ]);
    expect(runs.map((l) => l.split(" ")[1])).toEqual(NODE_COMMANDS.map((c) => c.stem));
  });

  it("labels the pod for cleanup by tool and by run", () => {
    expect(pod.metadata?.labels).toEqual({
      "app.kubernetes.io/managed-by": "netdoctor",
      "app.kubernetes.io/name": "netdoctor-collect",
      "netdoctor.io/run-id": "ab12cd34",
    });
  });
});

describe("collectorPodName()", () => {
  it("gives valid, distinct DNS names even for long or dotted node names", () => {
    const a = collectorPodName("ab12cd34", "ip-10-0-1-23.eu-west-1.compute.internal");
    const b = collectorPodName("ab12cd34", "ip-10-0-1-23.eu-west-1.compute.internal2");
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(collectorPodName("ab12cd34", "Node_A")).toMatch(/^netdoctor-ab12cd34-node-a-[0-9a-f]{6}$/);
  });
});
