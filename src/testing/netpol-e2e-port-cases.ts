/** network_policy.go truth tables, transcribed: ports, named ports, updated labels. */
import { ALL, allIngress, type Case, P, type Step } from "./netpol-e2e-model.ts";
import { labels, modelNamespaces, nsName, nsPeer, podPeer, policy } from "./netpol-model.ts";

const x = "x";
const y = "y";

/** Ingress allowed on one port number, alone and stacked with a second policy. */
function numberedPortCases(): Case[] {
  const allow81 = policy(x, "allow-client-a-via-ns-selector", {
    podSelector: labels({ pod: "a" }),
    ingress: [{ from: [nsPeer(nsName(y))], ports: [{ port: 81, protocol: "TCP" }] }],
  });
  const allow80 = policy(x, "allow-client-a-via-ns-selector-80", {
    podSelector: labels({ pod: "a" }),
    ingress: [{ from: [nsPeer(nsName(y))], ports: [{ port: 80, protocol: "TCP" }] }],
  });
  const allowSteps: Step[] = [
    [P("x"), P("x/a"), false],
    [P("y"), P("x/a"), true],
    [P("z"), P("x/a"), false],
  ];
  const pods = ["x/a", "x/b", "y/a", "y/b", "z/a"];
  return [
    { name: "should enforce policy based on Ports", pods, policies: [allow81], port: 81, steps: allowSteps },
    {
      name: "stacked policies: port 80 before the second policy",
      pods,
      policies: [allow81],
      port: 80,
      steps: [allIngress("x/a", false)],
    },
    {
      name: "stacked policies: port 80 after the second policy",
      pods,
      policies: [allow81, allow80],
      port: 80,
      steps: allowSteps,
    },
  ];
}

/** An allow-all ingress policy, on both ports. */
function allowAllIngressCases(): Case[] {
  return [
    {
      name: "should support allow-all policy (80)",
      pods: ["x/a", "x/b", "y/a"],
      policies: [policy(x, "allow-all", { ingress: [{}] })],
      port: 80,
      steps: [],
    },
    {
      name: "should support allow-all policy (81)",
      pods: ["x/a", "x/b", "y/a"],
      policies: [policy(x, "allow-all", { ingress: [{}] })],
      port: 81,
      steps: [],
    },
  ];
}

/** Ingress allowed on one named port, from everywhere and from one namespace. */
function namedPortIngressCases(): Case[] {
  const namedAll = policy(x, "allow-all", { ingress: [{ ports: [{ port: "serve-81-tcp" }] }] });
  const namedNs = policy(x, "allow-client-a-via-ns-selector-80", {
    podSelector: labels({ pod: "a" }),
    ingress: [{ from: [nsPeer(nsName(y))], ports: [{ port: "serve-80-tcp", protocol: "TCP" }] }],
  });
  return [
    {
      name: "should allow ingress access on one named port (81)",
      pods: ["x/a", "x/b", "y/a"],
      policies: [namedAll],
      port: 81,
      steps: [],
    },
    {
      name: "should allow ingress access on one named port (80)",
      pods: ["x/a", "x/b", "y/a"],
      policies: [namedAll],
      port: 80,
      steps: [[ALL, P("x"), false]],
    },
    {
      name: "should allow ingress access from namespace on one named port (80)",
      pods: ["x/a", "x/b", "y/a", "z/a"],
      policies: [namedNs],
      port: 80,
      steps: [
        [P("x"), P("x/a"), false],
        [P("z"), P("x/a"), false],
      ],
    },
    {
      name: "should allow ingress access from namespace on one named port (81)",
      pods: ["x/a", "x/b", "y/a", "z/a"],
      policies: [namedNs],
      port: 81,
      steps: [allIngress("x/a", false)],
    },
  ];
}

/** Policies, namespace labels and pod labels after an update. */
function updatedObjectCases(): Case[] {
  return [
    {
      name: "should enforce updated policy (after the update)",
      pods: ["x/a", "y/a"],
      policies: [policy(x, "allow-all-mutate-to-deny-all", { ingress: [] })],
      port: 81,
      steps: [[ALL, P("x"), false]],
    },
    {
      name: "should allow ingress access from updated namespace (before the label)",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-client-a-via-ns-selector", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ from: [nsPeer({ ns2: "updated" })] }],
        }),
      ],
      port: 80,
      steps: [allIngress("x/a", false)],
    },
    {
      name: "should allow ingress access from updated namespace (after the label)",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-client-a-via-ns-selector", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ from: [nsPeer({ ns2: "updated" })] }],
        }),
      ],
      namespaces: modelNamespaces({ y: { ns2: "updated" } }),
      port: 80,
      steps: [allIngress("x/a", false), [P("y"), ALL, true]],
    },
    {
      name: "should allow ingress access from updated pod (after the label)",
      pods: ["x/a", "x/b"],
      policies: [
        policy(x, "allow-client-a-via-pod-selector", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ from: [podPeer({ pod: "b", pod2: "updated" })] }],
        }),
      ],
      podLabels: { "x/b": { pod: "b", pod2: "updated" } },
      port: 80,
      steps: [allIngress("x/a", false), [P("x/b"), P("x/a"), true]],
    },
  ];
}

/** Ingress denied from other namespaces, and to a pod once a label selects it. */
function ingressDenyCases(): Case[] {
  return [
    {
      name: "should deny ingress from pods on other namespaces",
      pods: ["x/a", "x/b", "y/a", "z/a"],
      policies: [policy(x, "deny-empty-policy", { ingress: [{ from: [podPeer({})] }] })],
      port: 80,
      steps: [
        [P("y"), P("x"), false],
        [P("z"), P("x"), false],
      ],
    },
    {
      name: "should deny ingress access to updated pod (after the label)",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "deny-ingress-via-label-selector", {
          podSelector: labels({ target: "isolated" }),
          ingress: [],
        }),
      ],
      podLabels: { "x/a": { pod: "a", target: "isolated" } },
      port: 80,
      steps: [allIngress("x/a", false)],
    },
  ];
}

/** The port, named-port and update cases of network_policy.go, in its order. */
export function portCases(): Case[] {
  return [
    ...numberedPortCases(),
    ...allowAllIngressCases(),
    ...namedPortIngressCases(),
    ...updatedObjectCases(),
    ...ingressDenyCases(),
  ];
}
