/**
 * The conformance truth tables of kubernetes/kubernetes test/e2e/network/netpol/network_policy.go,
 * transcribed by hand: for each test its pods, its policies and its reachability expectations
 * (NewReachability(all, true) followed by the same Expect/ExpectPeer/ExpectAllIngress/ExpectAllEgress
 * calls in the same order). Loopback pairs are ignored, as the e2e suite ignores them.
 */
import { describe, expect, it } from "vitest";
import type { Namespace, NetworkPolicy } from "../model/network-policy.ts";
import {
  labels,
  modelIp,
  modelNamespaces,
  modelPod,
  nsName,
  nsPeer,
  podPeer,
  policy,
} from "../testing/netpol-model.ts";
import type { NetpolProtocol } from "./netpol-types.ts";
import { networkPolicyVerdict } from "./policy-verdict.ts";

interface Peer {
  readonly ns?: string;
  readonly pod?: string;
}

type Step = readonly [from: Peer, to: Peer, allowed: boolean];

const P = (s: string): Peer => {
  const [ns, pod] = s.split("/");
  return pod === undefined ? { ns: ns! } : { ns: ns!, pod };
};
const ALL: Peer = {};
const allIngress = (pod: string, v: boolean): Step => [ALL, P(pod), v];
const allEgress = (pod: string, v: boolean): Step => [P(pod), ALL, v];

interface Case {
  readonly name: string;
  readonly pods: readonly string[];
  readonly policies: readonly NetworkPolicy[];
  readonly port: number;
  readonly protocol?: NetpolProtocol;
  readonly steps: readonly Step[];
  readonly namespaces?: Namespace[] | "absent";
  readonly podLabels?: Readonly<Record<string, Record<string, string>>>;
}

const fits = (peer: Peer, pod: string) => {
  const [ns, name] = pod.split("/");
  return (peer.ns === undefined || peer.ns === ns) && (peer.pod === undefined || peer.pod === name);
};

function expected(c: Case, from: string, to: string): boolean {
  let v = true;
  for (const [f, t, allowed] of c.steps) if (fits(f, from) && fits(t, to)) v = allowed;
  return v;
}

const x = "x";
const y = "y";
const CASES: readonly Case[] = [
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
  ...portCases(),
  ...egressCases(),
  ...protocolAndCidrCases(),
];

function portCases(): Case[] {
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
  const namedAll = policy(x, "allow-all", { ingress: [{ ports: [{ port: "serve-81-tcp" }] }] });
  const namedNs = policy(x, "allow-client-a-via-ns-selector-80", {
    podSelector: labels({ pod: "a" }),
    ingress: [{ from: [nsPeer(nsName(y))], ports: [{ port: "serve-80-tcp", protocol: "TCP" }] }],
  });
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

function egressCases(): Case[] {
  const egressNamed = policy(x, "allow-egress", { egress: [{ ports: [{ port: "serve-80-tcp" }] }] });
  const both = policy(x, "allow-client-a-via-pod-selector", {
    podSelector: labels({ pod: "a" }),
    ingress: [{ from: [podPeer({ pod: "b" })] }],
    egress: [{ ports: [{ port: 80 }] }],
  });
  const ingressFromXa = [
    { from: [{ namespaceSelector: labels(nsName(x)), podSelector: labels({ pod: "a" }) }] },
  ];
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

function protocolAndCidrCases(): Case[] {
  const denyIngress = policy(x, "deny-ingress", { ingress: [] });
  const large = "10.42.0.0/16";
  return [
    {
      name: "should enforce ingress policy allowing any port traffic to a server on a specific protocol (TCP)",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-ingress-by-proto", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ ports: [{ protocol: "TCP" }] }],
        }),
      ],
      port: 80,
      steps: [],
    },
    {
      name: "should enforce ingress policy allowing any port traffic to a server on a specific protocol (UDP)",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-ingress-by-proto", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ ports: [{ protocol: "TCP" }] }],
        }),
      ],
      port: 80,
      protocol: "UDP",
      steps: [[ALL, P("x/a"), false]],
    },
    {
      name: "should enforce multiple ingress policies with ingress allow-all policy taking precedence (before)",
      pods: ["x/a", "y/a"],
      policies: [policy(x, "allow-ingress-port-80", { ingress: [{ ports: [{ port: 80 }] }] })],
      port: 81,
      steps: [[ALL, P("x"), false]],
    },
    {
      name: "should enforce multiple ingress policies with ingress allow-all policy taking precedence (after)",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-ingress-port-80", { ingress: [{ ports: [{ port: 80 }] }] }),
        policy(x, "allow-ingress", { ingress: [{}] }),
      ],
      port: 81,
      steps: [],
    },
    {
      name: "should stop enforcing policies after they are deleted (while present)",
      pods: ["x/a", "y/a"],
      policies: [policy(x, "deny-all", { ingress: [], egress: [] })],
      port: 80,
      steps: [
        [P("x"), ALL, false],
        [ALL, P("x"), false],
      ],
    },
    {
      name: "should stop enforcing policies after they are deleted (after)",
      pods: ["x/a", "y/a"],
      policies: [],
      port: 80,
      steps: [],
    },
    {
      name: "should allow egress access to server in CIDR block",
      pods: ["x/a", "y/a", "y/b"],
      policies: [
        policy(x, "allow-client-a-via-cidr-egress-rule", {
          podSelector: labels({ pod: "a" }),
          egress: [{ to: [{ ipBlock: { cidr: `${modelIp("y/b")}/32` } }] }],
        }),
      ],
      port: 80,
      steps: [allEgress("x/a", false), [P("x/a"), P("y/b"), true]],
    },
    {
      name: "should enforce except clause while egress access to server in CIDR block",
      pods: ["x/a", "x/b", "x/c"],
      policies: [
        policy(x, "allow-client-a-via-cidr-egress-rule", {
          podSelector: labels({ pod: "a" }),
          egress: [{ to: [{ ipBlock: { cidr: large, except: [`${modelIp("x/b")}/32`] } }] }],
        }),
      ],
      port: 80,
      steps: [[P("x/a"), P("x/b"), false]],
    },
    {
      name: "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed (after the update)",
      pods: ["x/a", "x/b", "x/c"],
      policies: [
        policy(x, "allow-client-a-via-cidr-egress-rule", {
          podSelector: labels({ pod: "a" }),
          egress: [{ to: [{ ipBlock: { cidr: `${modelIp("x/b")}/32` } }] }],
        }),
      ],
      port: 80,
      steps: [allEgress("x/a", false), [P("x/a"), P("x/b"), true]],
    },
    {
      name: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
      pods: ["x/a", "y/a"],
      policies: [
        denyIngress,
        policy(x, "allow-only-sctp-ingress-on-port-81", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ ports: [{ port: 81, protocol: "SCTP" }] }],
        }),
      ],
      port: 81,
      steps: [[ALL, P("x"), false]],
    },
    {
      name: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-only-sctp-ingress-on-port-80", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ ports: [{ port: 80, protocol: "SCTP" }] }],
        }),
      ],
      port: 81,
      steps: [allIngress("x/a", false)],
    },
    {
      name: "should not allow access by TCP when a policy specifies only UDP",
      pods: ["x/a", "y/a"],
      policies: [
        policy(x, "allow-only-udp-ingress-on-port-81", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ ports: [{ port: 81, protocol: "UDP" }] }],
        }),
      ],
      port: 81,
      steps: [allIngress("x/a", false)],
    },
    {
      name: "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label (without namespaces.json)",
      pods: ["x/a", "x/b", "y/a", "z/a"],
      policies: [
        policy(x, "allow-client-a-via-ns-selector-for-immutable-ns-label", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ from: [nsPeer(nsName(y))] }],
        }),
      ],
      namespaces: "absent",
      port: 80,
      steps: [
        [P("x"), P("x/a"), false],
        [P("z"), P("x/a"), false],
      ],
    },
    {
      name: "UDP: should enforce policy based on Ports",
      pods: ["x/a", "x/b", "y/a", "z/a"],
      protocol: "UDP",
      policies: [
        policy(x, "allow-ingress-on-port-81-ns-x", {
          podSelector: labels({ pod: "a" }),
          ingress: [{ from: [nsPeer(nsName(y))], ports: [{ port: 81, protocol: "UDP" }] }],
        }),
      ],
      port: 81,
      steps: [
        [P("x"), P("x/a"), false],
        [P("z"), P("x/a"), false],
      ],
    },
    {
      name: "SCTP: should support a 'default-deny-ingress' policy",
      pods: ["x/a", "x/b", "y/a", "y/b"],
      protocol: "SCTP",
      policies: [policy(x, "deny-all", { ingress: [] })],
      port: 80,
      steps: [[ALL, P("x"), false]],
    },
  ];
}

describe("networkPolicyVerdict() on the e2e netpol truth tables", () => {
  let pairs = 0;
  for (const c of CASES) {
    it(c.name, () => {
      const pods = c.pods.map((p) => modelPod(p, c.podLabels?.[p]));
      const namespaces = c.namespaces === "absent" ? undefined : (c.namespaces ?? modelNamespaces());
      const input = { state: { policies: c.policies, ...(namespaces === undefined ? {} : { namespaces }) } };
      const wrong: string[] = [];
      for (const from of pods) {
        for (const to of pods) {
          if (from === to) continue;
          const f = `${from.metadata.namespace}/${from.metadata.name}`;
          const t = `${to.metadata.namespace}/${to.metadata.name}`;
          const v = networkPolicyVerdict(input, {
            client: from,
            server: to,
            port: c.port,
            protocol: c.protocol ?? "TCP",
          });
          const want = expected(c, f, t) ? "allowed" : "denied";
          if (v.decision !== want)
            wrong.push(
              `${f} -> ${t}: ${v.decision}, expected ${want} (${v.ingress.reason}; ${v.egress.reason})`,
            );
          pairs++;
        }
      }
      expect(wrong).toEqual([]);
    });
  }
  it("covered every case", () => {
    expect(pairs).toBeGreaterThan(300);
    console.log(`e2e netpol truth tables: ${CASES.length} cases, ${pairs} pod pairs`);
  });
});
