/**
 * The dns link: how the client's lookup of the host is answered. Cluster names need the cluster DNS
 * (the pod's dnsPolicy and CoreDNS's endpoints); a name the cluster DNS does not own is answered by the
 * upstream resolver, which the bundle cannot show.
 */
import { makeFinding } from "../findings/make-finding.ts";
import { objectKey } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { describeRanges } from "./cluster-ranges.ts";
import { dnsPolicyLink } from "./dns-policy.ts";
import { brokenBy, type Link, plain, undecided, type WalkContext } from "./link.ts";

const SERVICES = "cluster/services.json";
const SLICES = "cluster/endpointslices.json";

/** A hostNetwork pod without ClusterFirstWithHostNet resolves with the node's resolv.conf. */
function hostNetworkProblem(ctx: WalkContext): Finding | undefined {
  const { client, clientKey } = ctx.question;
  if (!client.hostNetwork || client.dnsPolicy === "ClusterFirstWithHostNet" || client.dnsPolicy === "None")
    return undefined;
  const policy = client.dnsPolicy ?? "ClusterFirst";
  return makeFinding(
    "dns-no-service",
    { kind: "host-network", pod: clientKey, dnsPolicy: policy },
    {
      pod: clientKey,
      evidence: [
        {
          file: client.source?.file ?? "cluster/pods.json",
          ...(client.source?.line === undefined ? {} : { line: client.source.line }),
          text: `pod ${clientKey} hostNetwork: true, dnsPolicy: ${policy}`,
        },
      ],
    },
  );
}

/** The cluster DNS itself: its Service must exist and have a ready endpoint. */
function clusterDnsProblem(ctx: WalkContext): Link | undefined {
  const { dnsPort, clientKey } = ctx.question;
  if (dnsPort === undefined)
    return undecided(
      "dns",
      "the bundle has no cluster DNS Service (kube-system/kube-dns): the lookup cannot be proven",
      {
        missing:
          "the cluster DNS Service (kube-system/kube-dns, or the Service labelled k8s-app=kube-dns) in cluster/services.json",
        howToGet: "`kubectl get services -A -o json > cluster/services.json`",
      },
    );
  if (dnsPort.clusterEndpoints.length > 0) return undefined;
  if (ctx.gaps.has(SLICES))
    return undecided(
      "dns",
      `the cluster DNS Service ${dnsPort.service} shows no ready endpoints, but some EndpointSlices could not be read`,
      {
        missing: `the unreadable items of ${SLICES} (see bundle-invalid)`,
        howToGet: "`kubectl get endpointslices -A -o json > cluster/endpointslices.json`",
      },
    );
  const proof = makeFinding(
    "endpoints-none",
    { context: "cluster-dns", service: dnsPort.service, svcPortName: dnsPort.svcPortName, client: clientKey },
    {
      service: dnsPort.service,
      pod: clientKey,
      evidence: [
        {
          file: dnsPort.source?.file ?? SERVICES,
          ...(dnsPort.source?.line === undefined ? {} : { line: dnsPort.source.line }),
          text: `service ${dnsPort.svcPortName} ${dnsPort.clusterIP}:${dnsPort.port}/${dnsPort.protocol}`,
        },
      ],
    },
  );
  return brokenBy("dns", proof);
}

function outside(ctx: WalkContext, host: string, how: string, suggestion?: string): Link {
  const q = ctx.question;
  const finding = makeFinding(
    "destination-outside",
    {
      host,
      port: q.target.port,
      kind: "name",
      namespace: q.client.metadata.namespace ?? "default",
      domain: q.domain.domain,
      ranges: describeRanges(q.ranges),
      ...(suggestion === undefined ? {} : { suggestion }),
    },
    { pod: q.clientKey, evidence: [{ file: SERVICES, text: how }] },
  );
  return undecided(
    "dns",
    finding.message,
    {
      missing: `what the upstream resolver answers for "${host}"`,
      howToGet: `\`kubectl exec -n ${q.client.metadata.namespace ?? "default"} ${q.client.metadata.name} -- nslookup ${host}\``,
    },
    [finding],
  );
}

/** The dns link of a question. */
export function dnsLink(ctx: WalkContext): Link {
  const q = ctx.question;
  const r = q.resolution;
  if (!q.usesClusterDns)
    return plain("dns", "not-applicable", "how" in r ? r.how : `${q.target.host}: no DNS lookup`);
  const note = ` (cluster domain ${q.domain.domain}${q.domain.from === undefined ? ", the default" : ` from ${q.domain.from}`})`;
  if (r.kind === "outside-name") {
    // A hostNetwork pod with ClusterFirst asks the node's resolver directly: CoreDNS is not involved.
    const viaCoreDns = hostNetworkProblem(ctx) === undefined;
    return (
      (viaCoreDns ? clusterDnsProblem(ctx) : undefined) ?? outside(ctx, q.target.host, r.how, r.suggestion)
    );
  }
  const hostNet = hostNetworkProblem(ctx);
  if (hostNet !== undefined) return brokenBy("dns", hostNet);
  const server = clusterDnsProblem(ctx) ?? dnsPolicyLink(ctx);
  if (server !== undefined) return server;
  switch (r.kind) {
    case "service":
      return plain(
        "dns",
        "ok",
        `${r.how} → Service ${objectKey(r.service.metadata)}, ClusterIP ${r.service.clusterIP ?? "none"}${note}`,
      );
    case "external-name":
      return outside(ctx, r.service.externalName ?? q.target.host, r.how);
    case "no-service": {
      if (ctx.gaps.has(SERVICES))
        return undecided("dns", `${r.how}, but some Services of the bundle could not be read`, {
          missing: `the unreadable items of ${SERVICES} (see bundle-invalid)`,
          howToGet: "`kubectl get services -A -o json > cluster/services.json`",
        });
      const proof = makeFinding(
        "dns-no-service",
        {
          kind: "no-service",
          host: q.target.host,
          domain: q.domain.domain,
          tried: r.tried,
          suggestions: r.suggestions,
        },
        { pod: q.clientKey, evidence: [{ file: SERVICES, text: `no Service for: ${r.tried.join(", ")}` }] },
      );
      return brokenBy("dns", proof, `${proof.message}${note}`);
    }
    default:
      return plain("dns", "not-applicable", r.how);
  }
}
