/** The service link: the Service port the client addresses (by number or name) and its targetPort. */
import { makeFinding } from "../findings/make-finding.ts";
import { objectKey, type Service } from "../model/cluster.ts";
import type { Evidence } from "../model/finding.ts";
import { brokenBy, type Link, plain, undecided, type WalkContext } from "./link.ts";

/** Evidence pointing at a Service object in cluster/services.json. */
export function serviceEvidence(
  svc: { readonly source?: { file: string; line?: number } },
  text: string,
): Evidence {
  const file = svc.source?.file ?? "cluster/services.json";
  return { file, ...(svc.source?.line === undefined ? {} : { line: svc.source.line }), text };
}

function portLink(ctx: WalkContext, svc: Service): Link {
  const q = ctx.question;
  const key = objectKey(svc.metadata);
  const port = q.servicePort;
  if (port === undefined) {
    const have = svc.ports.map((p) => `${p.name ?? "(unnamed)"} ${p.port}/${p.protocol}`);
    const proof = makeFinding(
      "service-port-missing",
      { service: key, port: q.target.port, have, ports: svc.ports.map((p) => p.port) },
      {
        service: key,
        pod: q.clientKey,
        evidence: [serviceEvidence(svc, `service ${key} ports: ${have.join(", ")}`)],
      },
    );
    return brokenBy(
      "service",
      proof,
      `Service ${key} has no port ${q.target.port} (it has ${have.join(", ")})`,
    );
  }
  const target = port.targetPort ?? port.port;
  const nums = [...new Set((q.expected?.clusterEndpoints ?? []).map((e) => e.port))];
  const named = typeof target === "string";
  return plain(
    "service",
    "ok",
    `port ${port.name ?? "(unnamed)"} ${port.port}/${port.protocol} → targetPort ${named ? `"${target}"` : target}${named && nums.length > 0 ? ` (${nums.join(", ")} on the endpoints)` : ""}`,
  );
}

/** The service link of a question. */
export function serviceLink(ctx: WalkContext): Link {
  const q = ctx.question;
  const r = q.resolution;
  switch (r.kind) {
    case "service":
      return portLink(ctx, r.service);
    case "external-name":
      return plain(
        "service",
        "not-applicable",
        `ExternalName Service ${objectKey(r.service.metadata)}: DNS answers a CNAME, kube-proxy has no rules for it`,
      );
    case "pod":
      return plain(
        "service",
        "at-risk",
        `no Service on the path: the client addresses pod ${objectKey(r.pod.metadata)} directly, which breaks when the pod is rescheduled`,
        { risk: "no Service: the pod's IP changes when it is rescheduled" },
      );
    case "unassigned": {
      if (r.place.kind !== "service-range") return plain("service", "not-applicable", `no Service: ${r.how}`);
      const proof = makeFinding(
        "destination-unassigned",
        { ip: q.target.host, range: r.place.range.cidr, within: "service-range" },
        {
          pod: q.clientKey,
          evidence: [{ file: "cluster/services.json", text: `no Service has ClusterIP ${q.target.host}` }],
        },
      );
      return brokenBy("service", proof);
    }
    case "assumed-range":
      return r.place.role === "service"
        ? undecided("service", r.how, {
            missing: "the cluster's Service CIDR",
            howToGet:
              "read kube-apiserver's --service-cluster-ip-range (k3s/RKE2: --service-cidr) and compare; or ask again with the Service's name",
          })
        : plain("service", "not-applicable", `no Service: ${r.how}`);
    case "node":
    case "outside-ip":
    case "outside-name":
      return plain(
        "service",
        "not-applicable",
        `no Service: ${q.target.host} is not a Service of the cluster`,
      );
    case "no-service":
      return plain("service", "not-applicable", "no Service to check (see dns)");
    default: {
      const never: never = r;
      throw new TypeError(`Unknown resolution ${JSON.stringify(never)}`);
    }
  }
}
