/** network_policy.go truth tables, transcribed: egress, protocols, ipBlock. */
import { ALL, allEgress, allIngress, type Case, P } from "./netpol-e2e-model.ts";
import { labels, nsName, podPeer, policy } from "./netpol-model.ts";

const x = "x";
const y = "y";

/** Egress allowed on one named port only. */
function egressNamedPortCases(): Case[] {
  const egressNamed = policy(x, "allow-egress", { egress: [{ ports: [{ port: "serve-80-tcp" }] }] });
  return [
    {
      name: "should allow egress access on one named port (80)",
      pods: ["x/a", "y/a"],
      policies: [egressNamed],
      port: 80,
      steps: [],
    },
    {
      name: "should allow egress access on one named port (81)",
      pods: ["x/a", "y/a"],
      policies: [egressNamed],
      port: 81,
      steps: [[P("x"), ALL, false]],
    },
  ];
}

/** Egress denied to every destination, by pod selector or for a whole namespace. */
function egressDenyCases(): Case[] {
  return [
    {
      name: "should deny egress from pods based on PodSelector",
      pods: ["x/a", "x/b", "y/a"],
      policies: [policy(x, "deny-egress-pod-a", { podSelector: labels({ pod: "a" }), egress: [] })],
      port: 80,
      steps: [allEgress("x/a", false)],
    },
    {
      name: "should deny egress from all pods in a namespace",
      pods: ["x/a", "x/b", "y/a"],
      policies: [policy(x, "deny-egress-ns-x", { egress: [] })],
      port: 80,
      steps: [[P("x"), ALL, false]],
    },
  ];
}

/** One policy with both ingress and egress rules. */
function ingressAndEgressCases(): Case[] {
  const both = policy(x, "allow-client-a-via-pod-selector", {
    podSelector: labels({ pod: "a" }),
    ingress: [{ from: [podPeer({ pod: "b" })] }],
    egress: [{ ports: [{ port: 80 }] }],
  });
  return [
    {
      name: "should work with Ingress, Egress specified together (80)",
      pods: ["x/a", "x/b", "x/c", "y/a"],
      policies: [both],
      port: 80,
      steps: [allIngress("x/a", false), [P("x/b"), P("x/a"), true]],
    },
    {
      name: "should work with Ingress, Egress specified together (81)",
      pods: ["x/a", "x/b", "x/c", "y/a"],
      policies: [both],
      port: 81,
      steps: [allIngress("x/a", false), allEgress("x/a", false), [P("x/b"), P("x/a"), true]],
    },
  ];
}

/** Egress to a pod in another namespace, alone and against that namespace's ingress policies. */
function crossNamespaceEgressCases(): Case[] {
  const ingressFromXa = [
    { from: [{ namespaceSelector: labels(nsName(x)), podSelector: labels({ pod: "a" }) }] },
  ];
  return [
    {
      name: "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
      pods: ["x/a", "y/a", "y/b"],
      policies: [
        policy(x, "allow-to-ns-y-pod-a", {
          podSelector: labels({ pod: "a" }),
          egress: [{ to: [{ namespaceSelector: labels(nsName(y)), podSelector: labels({ pod: "a" }) }] }],
        }),
        policy(y, "allow-from-xa-on-ya-match-selector", {
          podSelector: labels({ pod: "a" }),
          ingress: ingressFromXa,
        }),
        policy(y, "allow-from-xa-on-yb-match-selector", {
          podSelector: labels({ pod: "b" }),
          ingress: ingressFromXa,
        }),
      ],
      port: 80,
      steps: [
        [P("x/a"), ALL, false],
        [ALL, P("y/a"), false],
        [P("x/a"), P("y/a"), true],
        [ALL, P("y/b"), false],
      ],
    },
    {
      name: "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
      pods: ["x/a", "y/a", "y/b"],
      policies: [
        policy(x, "allow-to-ns-y-pod-a", {
          podSelector: labels({ pod: "a" }),
          egress: [{ to: [{ namespaceSelector: labels(nsName(y)), podSelector: labels({ pod: "a" }) }] }],
        }),
      ],
      port: 80,
      steps: [allEgress("x/a", false), [P("x/a"), P("y/a"), true]],
    },
  ];
}

/** Several policies on the same pods: an egress allow-all wins, ingress and egress stay independent. */
function multiplePolicyEgressCases(): Case[] {
  return [
    {
      name: "should enforce multiple egress policies with egress allow-all policy taking precedence (before)",
      pods: ["x/a", "y/a"],
      policies: [policy(x, "allow-egress-port-80", { egress: [{ ports: [{ port: 80 }] }] })],
      port: 81,
      steps: [[P("x"), ALL, false]],
    },
    {
      name: "should enforce multiple egress policies with egress allow-all policy taking precedence (after)",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-egress-port-80", { egress: [{ ports: [{ port: 80 }] }] }),
        policy(x, "allow-egress", { egress: [{}] }),
      ],
      port: 81,
      steps: [],
    },
    {
      name: "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
      pods: ["x/a", "x/b", "y/a"],
      policies: [
        policy(x, "allow-egress-for-target", { podSelector: labels({ pod: "a" }), egress: [{}] }),
        policy(x, "deny-ingress-via-label-selector", { podSelector: labels({ pod: "a" }), ingress: [] }),
      ],
      port: 80,
      steps: [allIngress("x/a", false)],
    },
  ];
}

/** Egress to namespaces chosen by a matchExpressions selector on the immutable name label. */
function namespaceExpressionEgressCases(): Case[] {
  return [
    {
      name: "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
      pods: ["x/a", "x/b", "y/a", "z/a"],
      policies: [
        policy(x, "allow-ns-y-match-selector-for-immutable-ns-label", {
          podSelector: labels({ pod: "a" }),
          egress: [
            {
              to: [
                {
                  namespaceSelector: {
                    matchExpressions: [
                      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [y] },
                    ],
                  },
                },
              ],
            },
          ],
        }),
      ],
      port: 80,
      steps: [[P("x/a"), P("y"), false]],
    },
  ];
}

/** The egress cases of network_policy.go, in its order. */
export function egressCases(): Case[] {
  return [
    ...egressNamedPortCases(),
    ...egressDenyCases(),
    ...ingressAndEgressCases(),
    ...crossNamespaceEgressCases(),
    ...multiplePolicyEgressCases(),
    ...namespaceExpressionEgressCases(),
  ];
}
