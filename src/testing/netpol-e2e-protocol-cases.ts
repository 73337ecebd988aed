/** network_policy.go truth tables, transcribed: protocols (UDP, SCTP), ipBlock and except. */
import { ALL, allEgress, allIngress, type Case, P } from "./netpol-e2e-model.ts";
import { labels, modelIp, nsName, nsPeer, policy } from "./netpol-model.ts";

const x = "x";
const y = "y";

/** Ingress allowed on any port of one protocol. */
function protocolOnlyCases(): Case[] {
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
  ];
}

/** Several ingress policies: an allow-all wins. */
function multiplePolicyIngressCases(): Case[] {
  return [
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
  ];
}

/** A deny-all policy while present and after it is deleted. */
function deletedPolicyCases(): Case[] {
  return [
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
  ];
}

/** Egress to ipBlock CIDRs, with except, and an IP in both. */
function ipBlockCases(): Case[] {
  const large = "10.42.0.0/16";
  return [
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
  ];
}

/** Policies allowing only SCTP or only UDP never let TCP through. */
function protocolMismatchCases(): Case[] {
  const denyIngress = policy(x, "deny-ingress", { ingress: [] });
  return [
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
  ];
}

/** The kubernetes.io/metadata.name label when the bundle has no namespaces.json. */
function immutableNamespaceLabelCases(): Case[] {
  return [
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
  ];
}

/** The UDP and SCTP variants of the port and default-deny cases. */
function udpAndSctpCases(): Case[] {
  return [
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

/** The protocol (UDP, SCTP) and ipBlock cases of network_policy.go, in its order. */
export function protocolAndCidrCases(): Case[] {
  return [
    ...protocolOnlyCases(),
    ...multiplePolicyIngressCases(),
    ...deletedPolicyCases(),
    ...ipBlockCases(),
    ...protocolMismatchCases(),
    ...immutableNamespaceLabelCases(),
    ...udpAndSctpCases(),
  ];
}
