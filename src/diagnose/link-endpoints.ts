/** The endpoints link: what answers at the destination — the Service's ready endpoints, the pod, or nothing the bundle knows. */
import { makeFinding } from "../findings/make-finding.ts";
import { joinHostPort } from "../kube-proxy/chain-names.ts";
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import { type ClusterState, objectKey, type Service } from "../model/cluster.ts";
import { describeRanges } from "./cluster-ranges.ts";
import { brokenBy, type Link, plain, undecided, type WalkContext } from "./link.ts";
import { serviceEvidence } from "./link-service.ts";

const SLICES = "cluster/endpointslices.json";

function noEndpoints(ctx: WalkContext, svc: Service, sp: ExpectedServicePort | undefined): Link {
  const q = ctx.question;
  const key = objectKey(svc.metadata);
  if (ctx.gaps.has(SLICES))
    return undecided(
      "endpoints",
      "no ready endpoints in the bundle, but some EndpointSlices could not be read",
      {
        missing: `the unreadable items of ${SLICES} (see bundle-invalid)`,
        howToGet: "`kubectl get endpointslices -A -o json > cluster/endpointslices.json`",
      },
    );
  const notReady = (sp?.endpoints ?? []).map(
    (e) => `${joinHostPort(e.ip, e.port)}${e.pod === undefined ? "" : ` (${e.pod})`}`,
  );
  const proof = makeFinding(
    "endpoints-none",
    {
      context: "question",
      service: key,
      svcPortName: sp?.svcPortName ?? key,
      notReady,
      portName: q.servicePort?.name ?? q.servicePort?.port ?? q.target.port,
    },
    {
      service: key,
      pod: q.clientKey,
      evidence: [serviceEvidence(svc, `service ${key} selector ${JSON.stringify(svc.selector ?? {})}`)],
    },
  );
  const detail = `no ready endpoints${notReady.length > 0 ? ` (${notReady.length} not ready)` : ""}: clients get "Connection refused"`;
  return brokenBy("endpoints", proof, detail);
}

/** Ready addresses of a headless Service, straight from its EndpointSlices. */
function headlessReady(cluster: ClusterState, svc: Service): string[] {
  return cluster.endpointSlices
    .filter((s) => s.serviceName === svc.metadata.name && s.metadata.namespace === svc.metadata.namespace)
    .flatMap((s) => s.endpoints.filter((e) => e.conditions.ready !== false).flatMap((e) => e.addresses));
}

function serviceEndpoints(ctx: WalkContext, svc: Service): Link {
  const q = ctx.question;
  if (q.servicePort === undefined)
    return plain("endpoints", "not-applicable", "no Service port (see service)");
  if (svc.clusterIP === "None") {
    const ready = headlessReady(ctx.cluster, svc);
    if (ready.length === 0) return noEndpoints(ctx, svc, undefined);
    return plain(
      "endpoints",
      "ok",
      `headless Service: ${ready.length} ready pod IP${ready.length > 1 ? "s" : ""} (${ready.slice(0, 5).join(", ")}) that DNS returns`,
    );
  }
  const sp = q.expected;
  if (sp === undefined)
    return undecided(
      "endpoints",
      `Service ${objectKey(svc.metadata)} is not handled by kube-proxy (label service.kubernetes.io/service-proxy-name)`,
      {
        missing: "the rules of the proxy that serves it",
        howToGet: "check the component named in the Service's service-proxy-name label",
      },
    );
  const eps = sp.clusterEndpoints;
  if (eps.length === 0) return noEndpoints(ctx, svc, sp);
  const list = eps
    .map(
      (e) =>
        `${joinHostPort(e.ip, e.port)}${e.pod === undefined ? "" : ` (pod ${e.pod}${e.nodeName === undefined ? "" : ` on ${e.nodeName}`})`}`,
    )
    .join(", ");
  return plain("endpoints", "ok", `${eps.length} ready endpoint${eps.length > 1 ? "s" : ""}: ${list}`);
}

function outsideAnswer(ctx: WalkContext, what: string, kind?: "ip" | "node", nodeName?: string): Link {
  const q = ctx.question;
  const { host, port } = q.target;
  const said =
    kind === undefined
      ? []
      : [
          makeFinding(
            "destination-outside",
            {
              host,
              port,
              kind,
              namespace: q.client.metadata.namespace ?? "default",
              domain: q.domain.domain,
              ranges: describeRanges(q.ranges),
              ...(nodeName === undefined ? {} : { nodeName }),
            },
            {
              pod: q.clientKey,
              evidence: [{ file: "cluster/services.json", text: `no Service, pod or range holds ${host}` }],
            },
          ),
        ];
  const lead = said[0] === undefined ? "" : `${said[0].message}; `;
  return undecided(
    "endpoints",
    `${lead}whether ${what} accepts the connection is not decidable from the bundle`,
    {
      missing: `whether ${host}:${port} accepts connections (outside the cluster's objects)`,
      howToGet: `from the client's node: \`nc -vz ${host} ${port}\``,
    },
    said,
  );
}

/** The endpoints link of a question. */
export function endpointsLink(ctx: WalkContext): Link {
  const q = ctx.question;
  const r = q.resolution;
  switch (r.kind) {
    case "service":
      return serviceEndpoints(ctx, r.service);
    case "pod": {
      const where = `pod ${objectKey(r.pod.metadata)} on ${r.pod.nodeName ?? "no node"}`;
      if (r.pod.ready === true) return plain("endpoints", "ok", `${where} is ready`);
      return undecided("endpoints", `${where} is not ready (phase ${r.pod.phase ?? "unknown"})`, {
        missing: "whether the pod accepts connections while it is not Ready",
        howToGet: `\`kubectl describe pod -n ${r.pod.metadata.namespace ?? "default"} ${r.pod.metadata.name}\``,
      });
    }
    case "node": {
      const listener = ctx.cluster.pods.find(
        (p) =>
          p.hostNetwork === true &&
          p.nodeName === r.node.metadata.name &&
          p.ready === true &&
          p.containers.some((c) => (c.ports ?? []).some((cp) => cp.containerPort === q.target.port)),
      );
      return listener === undefined
        ? outsideAnswer(
            ctx,
            `node ${r.node.metadata.name}'s port ${q.target.port}`,
            "node",
            r.node.metadata.name,
          )
        : plain(
            "endpoints",
            "ok",
            `hostNetwork pod ${objectKey(listener.metadata)} serves port ${q.target.port} on node ${r.node.metadata.name} and is ready`,
          );
    }
    case "outside-ip":
      return outsideAnswer(ctx, `${q.target.host}:${q.target.port}`, "ip");
    case "external-name":
    case "outside-name":
      return outsideAnswer(ctx, `${q.target.host}:${q.target.port}`);
    case "unassigned": {
      if (r.place.kind === "service-range")
        return plain("endpoints", "not-applicable", "no Service (see service)");
      const node = r.place.kind === "node-pod-cidr" ? r.place.node : undefined;
      const range = r.place.kind === "node-pod-cidr" ? r.place.cidr : r.place.range.cidr;
      const proof = makeFinding(
        "destination-unassigned",
        {
          ip: q.target.host,
          range,
          within: r.place.kind === "node-pod-cidr" ? "node-pod-cidr" : "pod-range",
          ...(node === undefined ? {} : { node }),
        },
        {
          pod: q.clientKey,
          evidence: [{ file: "cluster/pods.json", text: `no pod has IP ${q.target.host}` }],
        },
      );
      return brokenBy("endpoints", proof);
    }
    case "assumed-range":
      return r.place.role === "pod"
        ? undecided("endpoints", r.how, {
            missing: "the cluster's pod CIDR",
            howToGet: "read the controller manager's --cluster-cidr (k3s/RKE2: --cluster-cidr) and compare",
          })
        : plain("endpoints", "not-applicable", "no Service (see service)");
    case "no-service":
      return plain("endpoints", "not-applicable", "no Service to check (see dns)");
    default: {
      const never: never = r;
      throw new TypeError(`Unknown resolution ${JSON.stringify(never)}`);
    }
  }
}
