/** network_policy.go truth tables, transcribed: pod and namespace selectors on ingress. */
import { ALL, allIngress, type Case, P } from "./netpol-e2e-model.ts";
import { labels, nsName, nsPeer, podPeer, policy } from "./netpol-model.ts";

const x = "x";
const y = "y";
export const SELECTOR_CASES: readonly Case[] = [
  {
    name: "should support a 'default-deny-ingress' policy",
    pods: ["x/a", "x/b", "y/a", "y/b"],
    policies: [policy(x, "deny-ingress", { ingress: [] })],
    port: 80,
    steps: [[ALL, P("x"), false]],
  },
  {
    name: "should support a 'default-deny-all' policy",
    pods: ["x/a", "x/b", "y/a"],
    policies: [policy(x, "deny-all", { ingress: [], egress: [] })],
    port: 80,
    steps: [
      [ALL, P("x"), false],
      [P("x"), ALL, false],
    ],
  },
  {
    name: "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
    pods: ["x/a", "x/b", "x/c", "y/a"],
    policies: [
      policy(x, "x-a-allows-x-b", {
        podSelector: labels({ pod: "a" }),
        ingress: [{ from: [podPeer({ pod: "b" })] }],
      }),
    ],
    port: 80,
    steps: [allIngress("x/a", false), [P("x/b"), P("x/a"), true]],
  },
  {
    name: "should enforce policy to allow ingress traffic for a target",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      policy(x, "deny-all", { ingress: [] }),
      policy(x, "allow-all-to-a", {
        podSelector: labels({ pod: "a" }),
        ingress: [{ from: [{ podSelector: {}, namespaceSelector: {} }] }],
      }),
    ],
    port: 80,
    steps: [allIngress("x/a", true), allIngress("x/b", false)],
  },
  {
    name: "should enforce policy to allow ingress traffic from pods in all namespaces",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      policy(x, "allow-from-another-ns", {
        podSelector: labels({ pod: "a" }),
        ingress: [{ from: [nsPeer({})] }],
      }),
    ],
    port: 80,
    steps: [],
  },
  {
    name: "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      policy(x, "allow-client-a-via-ns-selector", {
        podSelector: labels({ pod: "a" }),
        ingress: [{ from: [nsPeer(nsName(y))] }],
      }),
    ],
    port: 80,
    steps: [
      [P("x"), P("x/a"), false],
      [P("z"), P("x/a"), false],
    ],
  },
  {
    name: "should enforce policy based on PodSelector with MatchExpressions",
    pods: ["x/a", "x/b", "y/a"],
    policies: [
      policy(x, "x-a-allows-x-b", {
        podSelector: labels({ pod: "a" }),
        ingress: [
          { from: [{ podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["b"] }] } }] },
        ],
      }),
    ],
    port: 80,
    steps: [allIngress("x/a", false), [P("x/b"), P("x/a"), true]],
  },
  {
    name: "should enforce policy based on NamespaceSelector with MatchExpressions",
    pods: ["x/a", "x/b", "y/a", "z/a"],
    policies: [
      policy(x, "allow-ns-y-match-selector", {
        podSelector: labels({ pod: "a" }),
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [y] }],
                },
              },
            ],
          },
        ],
      }),
    ],
    port: 80,
    steps: [
      [P("x"), P("x/a"), false],
      [P("z"), P("x/a"), false],
    ],
  },
  {
    name: "should enforce policy based on PodSelector or NamespaceSelector",
    pods: ["x/a", "x/b", "x/c", "y/a"],
    policies: [
      policy(x, "allow-ns-y-match-selector", {
        podSelector: labels({ pod: "a" }),
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [x] }],
                },
              },
              podPeer({ pod: "b" }),
            ],
          },
        ],
      }),
    ],
    port: 80,
    steps: [
      [P("x/a"), P("x/a"), false],
      [P("x/c"), P("x/a"), false],
    ],
  },
  {
    name: "should enforce policy based on PodSelector and NamespaceSelector",
    pods: ["x/a", "x/b", "y/a", "y/b", "z/b"],
    policies: [
      policy(x, "allow-ns-y-podselector-and-nsselector", {
        podSelector: labels({ pod: "a" }),
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [x] }],
                },
                podSelector: labels({ pod: "b" }),
              },
            ],
          },
        ],
      }),
    ],
    port: 80,
    steps: [allIngress("x/a", false), [P("y/b"), P("x/a"), true], [P("z/b"), P("x/a"), true]],
  },
  {
    name: "should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
    pods: ["x/a", "x/b", "y/a", "y/b", "y/c"],
    policies: [
      policy(x, "allow-ns-y-z-pod-b-c", {
        podSelector: labels({ pod: "a" }),
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [x] }],
                },
                podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["b", "c"] }] },
              },
            ],
          },
        ],
      }),
    ],
    port: 80,
    steps: [
      [P("x"), P("x/a"), false],
      [P("y/a"), P("x/a"), false],
    ],
  },
  {
    name: "should enforce policy based on any PodSelectors",
    pods: ["x/a", "x/b", "x/c"],
    policies: [
      policy(x, "allow-ns-x-pod-b-c", {
        podSelector: labels({ pod: "a" }),
        ingress: [{ from: [podPeer({ pod: "b" }), podPeer({ pod: "c" })] }],
      }),
    ],
    port: 80,
    steps: [allIngress("x/a", false), [P("x/b"), P("x/a"), true], [P("x/c"), P("x/a"), true]],
  },
  {
    name: "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
    pods: ["x/a", "x/b", "y/a", "y/b", "z/a"],
    policies: [
      policy(x, "allow-ns-y-pod-a-via-namespace-pod-selector", {
        podSelector: labels({ pod: "a" }),
        ingress: [{ from: [{ namespaceSelector: labels(nsName(y)), podSelector: labels({ pod: "a" }) }] }],
      }),
    ],
    port: 80,
    steps: [allIngress("x/a", false), [P("y/a"), P("x/a"), true]],
  },
];
